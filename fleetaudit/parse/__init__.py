"""Parse stage: ss, netstat and /proc/net text into :class:`~fleetaudit.model.RawSocket`.

Pure functions, no I/O. :func:`parse_capture` is the entry point every other stage uses; the
dialect modules (:mod:`.ss`, :mod:`.netstat`, :mod:`.proc_net`) each satisfy
:class:`~fleetaudit.parse.interface.Parser`.
"""

from __future__ import annotations

from dataclasses import replace

from fleetaudit.errors import CaptureError
from fleetaudit.gctuning import collector_paused
from fleetaudit.model.enums import Tool
from fleetaudit.model.raw import RawLineError
from fleetaudit.parse import netstat, proc_net, ss
from fleetaudit.parse.detect import detect_tool
from fleetaudit.parse.interface import Parser, ParseResult

PARSERS: dict[Tool, Parser] = {
    Tool.SS: ss.parse,
    Tool.NETSTAT: netstat.parse,
    Tool.PROC: proc_net.parse,
}


def parse_capture(
    text: str,
    *,
    tool: Tool | None = None,
    privileged: bool = False,
    wide: bool = False,
    source: str = "<capture>",
) -> tuple[Tool, ParseResult]:
    """Parse one capture with the given dialect, or the detected one when ``tool`` is None.
    ``privileged`` and ``wide`` are as in :class:`~fleetaudit.parse.interface.Parser`.

    Raises :class:`CaptureError` when the text is not a socket table, including when every
    data line failed to parse (a wrong ``--tool`` or text of another kind) and when it lists
    only sockets of other kinds (``ss -x``). A table with no socket at all is a result (a
    namespace with none); :mod:`fleetaudit.captures` refuses it for saved captures.
    """
    refuse_a_listing_given_twice(text, source)
    chosen = tool if tool is not None else detect_tool(text, source=source)
    with collector_paused():
        result = PARSERS[chosen](text, privileged=privileged, wide=wide)
    if result.other_kinds and not result.sockets and not result.errors:
        raise CaptureError(
            f"no TCP or UDP socket here, only {result.other_kinds} of other kinds (unix, raw, "
            "netlink...): not a listing fleetaudit audits (take it with ss -tuanpe)",
            path=source,
        )
    result = _with_short_reasons(_without_a_cut_last_line(text, result))
    if result.errors and not result.sockets:
        first = result.errors[0]
        raise CaptureError(
            f"no line could be read as {chosen.value} output ({first.reason})",
            path=source,
            line=first.line,
        )
    return chosen, result


_LONGEST_REASON = 300
"""Longest reason kept whole. A reason quotes the token it could not read, and a hostile
host's token may be megabytes long: copied into every report format (and wrapped in the
table), one such line once cost minutes and tens of megabytes per report."""


def _with_short_reasons(result: ParseResult) -> ParseResult:
    """``result`` with every overlong reason cut in its middle: its start names the
    problem and its end often says what to do, while the line's own text is kept (cut
    to 300 characters) beside it."""
    if all(len(error.reason) <= _LONGEST_REASON for error in result.errors):
        return result  # nearly always: one pass, nothing built
    half = _LONGEST_REASON // 2 - 10
    errors = tuple(
        error._replace(reason=f"{error.reason[:half]} [...] {error.reason[-half:]}")
        if len(error.reason) > _LONGEST_REASON
        else error
        for error in result.errors
    )
    return replace(result, errors=errors)


_HEADER_WORDS = frozenset({"Netid", "State", "Recv-Q", "Active", "Proto", "sl"})
"""First words of the headers of ss, netstat (title or column line) and /proc/net."""


def refuse_a_listing_given_twice(text: str, source: str) -> None:
    """CaptureError when the text is one listing twice over (pasted twice into a ticket, or
    a file appended to itself): read as is, every socket would count twice, and counts
    (state-count) and findings with them. Only a listing that starts with its header is
    checked, since one tool run prints its header once: identical data lines (a socket per
    thread with SO_REUSEPORT, listed without ``-p`` or ``-H``) are sockets, and two
    different listings one after the other (``ss -t`` then ``ss -u``) are a listing."""
    first_line = text[: text.find("\n")] if "\n" in text else ""
    words = first_line.split()
    if not words or words[0] not in _HEADER_WORDS:
        return
    again = text.find("\n" + first_line + "\n")  # one search; absent in nearly every capture
    if again < 0:
        return
    first, second = text[: again + 1], text[again + 1 :]
    # Trailing blanks differ at the seam (a copy's last line, blank lines between copies).
    if first.rstrip() == second.rstrip():
        lines, repeated_at = first.rstrip().count("\n") + 1, first.count("\n") + 1
        raise CaptureError(
            f"the capture is one listing twice (lines 1-{lines} again from line "
            f"{repeated_at}): every socket would count twice; keep one copy",
            path=source,
        )


def _without_a_cut_last_line(text: str, result: ParseResult) -> ParseResult:
    """Every tool ends its output with a newline: a capture whose last line has none was cut
    there (a copy, a pipe closed early), and that line may parse into wrong fields (an
    inode of 164 for 16403371, a socket whose process list was cut reading as "no
    process"). It becomes a line error rather than a socket."""
    if not text or text.endswith(("\n", "\r")) or not result.sockets:
        return result
    last_line = text.count("\n") + 1
    if result.sockets[-1].line != last_line:
        return result
    cut = RawLineError(
        line=last_line,
        text=text[text.rfind("\n") + 1 :][:300],
        reason="the capture ends inside this line (no end of line): it may have been cut here",
    )
    return replace(result, sockets=result.sockets[:-1], errors=(*result.errors, cut))


__all__ = [
    "PARSERS",
    "ParseResult",
    "Parser",
    "detect_tool",
    "parse_capture",
    "refuse_a_listing_given_twice",
]
