"""Shared fixtures: a real OpenSSH sshd for the whole session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.sshd import SshdServer, start_sshd


@pytest.fixture(scope="session")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SshdServer]:
    """A real sshd on 127.0.0.1 that accepts the generated client key for this user."""
    yield from start_sshd(tmp_path_factory.mktemp("sshd"))
