"""The ``ss`` dialect (iproute2), every version in the wild.

Handles: with or without the Netid column (a one-protocol listing such as ``ss -tln`` has
none), with or without the header (``-H``), ``-e`` extras (``uid:``, ``ino:``, ``v6only:``),
``-p`` in the current ``users:(("name",pid=N,fd=M),...)`` and the old ``users:(("name",N,M))``
forms, process names with spaces, quotes or parentheses, and the Process column that runs
into a five-digit peer port when the column is full (``127.0.0.1:51234users:((...``).

Wildcards: ss before 4.x printed ``*`` for the IPv4 wildcard. Newer ss prints ``0.0.0.0`` for
IPv4 and reserves ``*`` for an IPv6 socket bound to ``::`` *without* IPV6_V6ONLY, that is a
dual-stack listener (``-e`` then shows ``v6only:0``; a v6-only one prints ``[::]`` and
``v6only:1``). A capture is read as the newer kind when it prints ``0.0.0.0`` anywhere, or
when the line carries ``v6only:``. ``*`` becomes the canonical wildcard of its family
(``0.0.0.0`` or ``::``), so every tool reports one address form.
"""

from __future__ import annotations

import re

from fleetaudit.model.enums import Proto, SocketState
from fleetaudit.model.host import LineError
from fleetaudit.model.socket import RawProcess, RawSocket
from fleetaudit.parse._addr import AddressError, Endpoint, address_problem, split_endpoint
from fleetaudit.parse._ss_common import (
    NETIDS,
    OTHER_NETIDS,
    STATES,
    USERS,
    Capture,
    build_record,
)
from fleetaudit.parse._ss_fast import read_fast
from fleetaudit.parse.interface import ParseResult

_PEER = re.compile(r"(\[[^\]]*\](?:%[^:\s]*)?|[^:\[\]]*):(\*|\d+)(.*)")
_USER_ENTRY = re.compile(r'\("(.*?)",(?:pid=)?(\d+),(?:fd=)?(\d+)\)')


class _LineProblem(ValueError):
    """A data line that cannot be read; becomes a :class:`LineError`."""


def parse(text: str, *, privileged: bool = False, wide: bool = False) -> ParseResult:
    """Parse ``ss`` output; lines of other socket kinds (unix, netlink, raw) are skipped.
    ``wide`` changes nothing: ss never cuts an address."""
    del wide
    capture = Capture(text, privileged)
    sockets: list[RawSocket] = []
    errors: list[LineError] = []
    other_kinds = 0
    for number, line in enumerate(text.splitlines(), start=1):
        fast = read_fast(line, number, capture)
        if fast is not None:
            sockets.append(fast)
            continue
        parts = line.split()
        if not parts or line[0] in " \t" or _is_header(parts):
            continue
        try:
            record = _parse_line(line, parts, number, capture)
        except (_LineProblem, AddressError) as exc:
            errors.append(LineError(line=number, text=line[:300], reason=str(exc)))
            continue
        if record is not None:
            sockets.append(record)
        else:
            other_kinds += 1
    return ParseResult(tuple(sockets), tuple(errors), other_kinds)


def _is_header(parts: list[str]) -> bool:
    return parts[0] in ("Netid", "State") and "Recv-Q" in parts


def _parse_line(line: str, parts: list[str], number: int, capture: Capture) -> RawSocket | None:
    first = parts[0]
    state = STATES.get(first)
    if state is not None:
        at = 0
        proto = Proto.UDP if state is SocketState.UNCONN else _netidless(state, capture)
    else:
        found = NETIDS.get(first)
        if found is None:
            if first in OTHER_NETIDS:
                return None
            raise _LineProblem(f"unknown Netid or State {first!r}")
        proto, at = found, 1
        state = STATES.get(parts[1]) if len(parts) > 1 else None
        if state is None:
            raise _LineProblem(f"unknown state {parts[1] if len(parts) > 1 else ''!r}")
    if len(parts) < at + 5:
        raise _LineProblem("too few columns")
    recv_text, send_text = parts[at + 1], parts[at + 2]
    if not (recv_text.isdecimal() and send_text.isdecimal()):  # counts: no sign
        raise _LineProblem("Recv-Q/Send-Q are not counts")
    recv_q, send_q = int(recv_text), int(send_text)
    local = split_endpoint(parts[at + 3])
    if local.address != "*" and (problem := address_problem(local.address)) is not None:
        raise AddressError(problem)
    peer, glued = _split_peer(parts[at + 4])
    processes, tail = _processes(line, parts, at + 5, glued)
    return build_record(
        capture, proto, state, recv_q, send_q,
        local.address, local.port, local.interface, peer.address, peer.port,
        processes, tail, number,
    )  # fmt: skip


def _netidless(state: SocketState, capture: Capture) -> Proto:
    # LISTEN and the TCP teardown states exist only for TCP; ESTAB exists for both, so it
    # takes the protocol the rest of the one-protocol listing shows.
    if state is SocketState.ESTABLISHED:
        return capture.netidless_proto
    return Proto.TCP


def _split_peer(token: str) -> tuple[Endpoint, str]:
    """The peer endpoint, and any Process-column text glued onto a full-width port."""
    match = _PEER.fullmatch(token)
    if match is None or not match[3]:
        return split_endpoint(token), ""
    return split_endpoint(f"{match[1]}:{match[2]}"), match[3]


def _processes(
    line: str, parts: list[str], extras_at: int, glued: str
) -> tuple[tuple[RawProcess, ...], str]:
    """The ``users:(...)`` entries and the text after them (the ``-e`` extras)."""
    start = line.find(USERS)
    if start < 0:
        rest = parts[extras_at:]
        return (), f"{glued} {' '.join(rest)}" if rest or glued else ""
    position = start + len(USERS)
    found: list[RawProcess] = []
    while (entry := _USER_ENTRY.match(line, position)) is not None:
        found.append(RawProcess(entry[1], int(entry[2]), int(entry[3])))
        position = entry.end()
        if line.startswith(",", position):
            position += 1
    if not found or not line.startswith(")", position):
        raise _LineProblem("unreadable users:(...) column")
    return tuple(found), line[position + 1 :]
