"""Shared fixtures: a real OpenSSH sshd for the whole session, a port that refuses."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from tests.sshd import SshdServer, start_sshd


@pytest.fixture(scope="session")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SshdServer]:
    """A real sshd on 127.0.0.1 that accepts the generated client key for this user."""
    yield from start_sshd(tmp_path_factory.mktemp("sshd"))


@pytest.fixture(scope="module")
def refused_port() -> Iterator[int]:
    """A port on 127.0.0.1 that refuses connections at once: bound, never listening (one
    per test module, which module-scoped fixtures can use too)."""
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        yield int(held.getsockname()[1])
