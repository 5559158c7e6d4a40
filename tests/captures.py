"""The recorded listings under tests/fixtures/captures, read the way every capture test
reads them: a ``-user`` capture was taken without privilege, every other one as root, and
no line of any of them may fail to parse (except in the few recorded for that)."""

from __future__ import annotations

from pathlib import Path

from fleetaudit.model.socket import Socket
from fleetaudit.parse import parse_capture

CAPTURES = Path(__file__).parent / "fixtures" / "captures"
WITH_LINE_ERRORS = frozenset({"nt-nettools-tuanpe-root", "nt-toybox-tuanpe-root"})
"""Captures recorded to contain unreadable lines (netstat without -W cutting addresses);
their own tests read them, :func:`sockets` refuses them."""
UNREADABLE = frozenset({"opt-ss-tnp-established-root"})
"""Captures recorded to be refused as a whole (ss without its State column); their own tests
check the error."""


def read_capture(path: Path) -> str:
    """A capture's text as fleetaudit reads one: UTF-8, undecodable bytes (a process name
    the kernel cut inside a character) replaced."""
    return path.read_text(encoding="utf-8", errors="replace")


def sockets(name: str) -> list[Socket]:
    """Every socket of the capture ``name`` (file stem)."""
    privileged = not name.endswith("-user")
    _, result = parse_capture(read_capture(CAPTURES / f"{name}.txt"), privileged=privileged)
    assert result.errors == ()
    return [Socket.from_raw(raw) for raw in result.sockets]


def listeners(name: str, port: int | None = None, proto: str | None = None) -> list[Socket]:
    """The listeners of the capture ``name``, optionally on one port and protocol."""
    return [
        s
        for s in sockets(name)
        if s.is_listener
        and (port is None or s.local_port == port)
        and (proto is None or s.proto.value == proto)
    ]
