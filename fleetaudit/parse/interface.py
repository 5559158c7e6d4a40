"""The parser contract: pure functions from command output text to socket records.

Every dialect module exposes ``parse(text: str, *, privileged: bool, wide: bool) ->
ParseResult``. ``privileged`` says whether the capture was taken as root: only then does a
socket with no process column entry mean "no process" (a kernel socket); otherwise its owner
is unknown. ``wide`` says the capture prints every address whole (netstat ``-W``); only
netstat ever cuts addresses, so the other dialects accept and ignore it.
Parsers never raise on a bad line: they record a :class:`LineError` and go on. They raise
:class:`~fleetaudit.errors.CaptureError` only when the text as a whole is not a socket
table of their dialect (an error message, a routing table, an empty file).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from fleetaudit.model.host import LineError
from fleetaudit.model.socket import RawSocket


@dataclass(frozen=True, slots=True)
class ParseResult:
    """Sockets read from one capture, plus the lines that could not be read."""

    sockets: tuple[RawSocket, ...]
    errors: tuple[LineError, ...] = ()
    other_kinds: int = 0
    """Lines of sockets fleetaudit does not audit (unix, raw, netlink...), skipped: a listing
    of nothing else is not a TCP/UDP listing, even though every line was read."""


class Parser(Protocol):
    """What each dialect module provides (checked structurally)."""

    def __call__(self, text: str, *, privileged: bool = False, wide: bool = False) -> ParseResult:
        """Parse one capture."""
        ...
