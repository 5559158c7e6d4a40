"""The parser contract: pure functions from command output text to socket records.

Every dialect module exposes ``parse(text: str, *, privileged: bool, wide: bool) ->
ParseResult``. ``privileged`` says whether the capture was taken as root: only then does a
socket with no process column entry mean "no process" (a kernel socket); otherwise its owner
is unknown. ``wide`` says the capture prints every address whole (netstat ``-W``); only
netstat ever cuts addresses, so the other dialects accept and ignore it.
Parsers never raise on a bad line: they record a :class:`RawLineError` and go on. They raise
:class:`~fleetaudit.errors.CaptureError` only when the text as a whole is not a socket
table of their dialect (an error message, a routing table, an empty file).
"""

from __future__ import annotations

import errno
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from fleetaudit.model.raw import RawLineError, RawSocket


@dataclass(frozen=True, slots=True)
class ParseResult:
    """Sockets read from one capture, plus the lines that could not be read."""

    sockets: tuple[RawSocket, ...]
    errors: tuple[RawLineError, ...] = ()
    other_kinds: int = 0
    """Lines of sockets fleetaudit does not audit (unix, raw, netlink...), skipped: a listing
    of nothing else is not a TCP/UDP listing, even though every line was read."""


def capture_text(raw: bytes) -> str:
    """A saved capture's bytes as the text the tool printed: decoded, a UTF-8 BOM (some
    editors add one) dropped, line ends untouched. Text-mode reading would turn a ``\r`` in
    a process name into a line end before :func:`lines_of` sees it."""
    return raw.decode("utf-8-sig", errors="replace")


def saved_capture(path: Path) -> bytes:
    """The bytes of a saved capture: the file, or stdin for ``-``. OSError when it cannot be
    read, also for a process started without stdin (``<&-``), which Python leaves None."""
    if str(path) != "-":
        return path.read_bytes()
    if sys.stdin is None:
        raise OSError(errno.EBADF, "stdin is closed")
    return sys.stdin.buffer.read()


def lines_of(text: str) -> list[str]:
    """The lines of a capture as the tools end them: at ``\n`` only, a ``\r`` before it
    (a capture saved with CRLF endings) dropped.

    Not ``str.splitlines``: it also ends a line at ``\r``, ``\v``, ``\f``, ``\x1c``-``\x1e``,
    ``\x85`` and ``\u2028``/``\u2029``, which a process name may hold (ss and netstat print
    names as they are, and any user names their own processes), so one socket line would be
    read as two unreadable ones, and every later line number would be off.
    """
    lines = text.split("\n")
    if not lines[-1]:
        lines.pop()  # the end of the last line, not an empty line after it
    if "\r" in text:
        lines = [line[:-1] if line.endswith("\r") else line for line in lines]
    return lines


def first_lines(text: str, count: int) -> list[str]:
    """:func:`lines_of` for the first ``count`` lines, without splitting the rest."""
    lines: list[str] = []
    start = 0
    while len(lines) < count and start < len(text):
        end = text.find("\n", start)
        end = len(text) if end < 0 else end
        lines.append(text[start:end].removesuffix("\r"))
        start = end + 1
    return lines


class Parser(Protocol):
    """What each dialect module provides (checked structurally)."""

    def __call__(self, text: str, *, privileged: bool = False, wide: bool = False) -> ParseResult:
        """Parse one capture."""
        ...
