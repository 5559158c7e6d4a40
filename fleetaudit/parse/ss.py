"""The ``ss`` dialect (iproute2), every version in the wild.

Handles: with or without the Netid column (a one-protocol listing such as ``ss -tln`` has
none), with or without the header (``-H``), ``-e`` extras (``uid:``, ``ino:``, ``v6only:``),
``-p`` in the current ``users:(("name",pid=N,fd=M),...)`` and the old ``users:(("name",N,M))``
forms, ``-T`` (one ``("name",pid=N,tid=T,fd=M)`` entry per thread, read as one process per
descriptor), ``-Z``/``-z`` (SELinux contexts in each entry, skipped), process names with
spaces, quotes, parentheses or newlines (ss prints them as they are, so such a socket spans
several lines), and the Process column that runs into a five-digit peer port
when the column is full (``127.0.0.1:51234users:((...``). A listing without the State
column (a state filter that selects one state) is refused line by line: the states cannot
be known.

Wildcards: ss before iproute2 4.15 (and RHEL/CentOS 7's) printed ``*`` for the IPv4
wildcard. Newer ss prints ``0.0.0.0`` for IPv4 and reserves ``*`` for an IPv6 socket bound to
``::`` *without* IPV6_V6ONLY, that is a dual-stack listener (``-e`` then shows ``v6only:0``; a
v6-only one prints ``[::]`` and ``v6only:1``). A line's own ``v6only:`` decides; with ``-e``
and none, the ``*`` is IPv4 (``-e`` prints it for every IPv6 socket). Otherwise the capture
decides: the newer kind prints ``0.0.0.0`` or names the Process column in its header; the
older prints ``*:*`` as the peer of an IPv4 listener, or ``:::``. A ``*`` in a capture that
shows neither (``ss -6 -tlnH``) is a line error, never a guess. ``*`` becomes the canonical
wildcard of its family (``0.0.0.0`` or ``::``), so every tool reports one address form.

A listing of one protocol has no Netid column. Its ESTAB and UNCONN lines (states TCP and
UDP share: ss names a closed TCP socket UNCONN) take the protocol its other lines show: TCP
for a line in a TCP-only state, else UDP for an UNCONN line. ESTAB lines are line errors
when nothing shows it (``ss -unp``, ``ss -tnp``). What the capture shows is read from whole
socket lines only (:mod:`._ss_evidence`), never from process names, which their owners
choose.
"""

from __future__ import annotations

import re

from fleetaudit.model.enums import Proto, SocketState
from fleetaudit.model.raw import RawLineError, RawProcess, RawSocket
from fleetaudit.parse._addr import (
    QUEUE_MAX,
    QUEUE_PROBLEM,
    AddressError,
    Endpoint,
    address_problem,
    split_endpoint,
)
from fleetaudit.parse._ss_common import (
    HEADER_STARTS,
    NETIDS,
    OTHER_NETIDS,
    STATES,
    USERS,
    Capture,
    build_record,
)
from fleetaudit.parse._ss_fast import read_fast
from fleetaudit.parse._stderr_lines import is_ss_warning
from fleetaudit.parse.interface import ParseResult, lines_of

_PEER = re.compile(r"(\[[^\]]*\](?:%[^:\s]*)?|[^:\[\]]*):(\*|\d+)(.*)")
# ("name",pid=N,fd=M), old ("name",N,M); -T adds tid=T, and -Z / -z SELinux contexts
# (proc_ctx=system_u:system_r:sshd_t:s0-s0:c0.c1023, categories may hold commas)
_USER_ENTRY = re.compile(
    r'(?s)\("(.*?)",(?:pid=)?(\d+),(?:tid=(\d+),)?(?:proc_ctx=[^()]*?,)?(?:fd=)?(\d+)'
    r"(?:,sock_ctx=[^()]*)?\)"
)
NO_STATE_COLUMN = (
    "no State column (ss leaves it out when a state filter such as 'state established' "
    "selects a single state), so the sockets' states are unknown; take the listing without "
    "a state filter (ss -tuanpe)"
)


PROTOCOL_UNKNOWN = (
    "no Netid column (a listing of one protocol) and no socket in a state only TCP or only "
    "UDP has, so whether this ESTAB socket is TCP or UDP is unknown; take the listing of "
    "both (ss -tuanpe)"
)


FORGED = (
    "not a socket line: the rest of a process name that holds a newline (a line without "
    "the Netid column the listing has, or the end of a name where the address stands)"
)


class _LineProblem(ValueError):
    """A data line that cannot be read; becomes a :class:`RawLineError`."""


class _Unclosed(_LineProblem):
    """A ``users:(...)`` column that does not close on its line."""


def parse(text: str, *, privileged: bool = False, wide: bool = False) -> ParseResult:
    """Parse ``ss`` output; lines of other socket kinds (unix, netlink, raw) are skipped.
    ``wide`` changes nothing: ss never cuts an address."""
    del wide
    capture = Capture(text, privileged)
    sockets: list[RawSocket] = []
    errors: list[RawLineError] = []
    other_kinds = 0
    lines = lines_of(text)
    joined_through = 0  # lines read as the end of a process name with a newline
    for number, line in enumerate(lines, start=1):
        if number <= joined_through:
            continue
        fast = read_fast(line, number, capture)
        if fast is not None:
            sockets.append(fast)
            continue
        parts = line.split()
        if not parts or line[0] in " \t":
            continue
        if is_ss_warning(line):
            continue
        if _is_header(parts):
            if "State" not in parts:
                # even a listing with no line under this header is not the host's table
                errors.append(RawLineError(line=number, text=line[:300], reason=NO_STATE_COLUMN))
            continue
        try:
            record = _parse_line(line, parts, number, capture)
        except (_LineProblem, AddressError) as exc:
            rejoined = _rejoined(lines, number, capture) if isinstance(exc, _Unclosed) else None
            if rejoined is None:
                errors.append(RawLineError(line=number, text=line[:300], reason=str(exc)))
                continue
            record, joined_through = rejoined
        if record is not None:
            sockets.append(record)
        else:
            other_kinds += 1
    return ParseResult(tuple(sockets), tuple(errors), other_kinds)


def _rejoined(
    lines: list[str], number: int, capture: Capture
) -> tuple[RawSocket | None, int] | None:
    """The socket of line ``number`` whose ``users:(...)`` column a newline in a process name
    broke (ss prints names as they are), and the number of its last line; None when no
    following line closes it. A name has at most 15 characters, so at most 15 newlines; a
    line that starts a socket of its own ends the search."""
    text = lines[number - 1]
    for following in lines[number : number + _NAME_NEWLINES_MAX]:
        first = following.split(None, 1)[0] if following.strip() else ""
        if first in STATES or first in NETIDS or first in OTHER_NETIDS:
            return None
        text += "\n" + following
        number_after = number + text.count("\n")
        try:
            return _parse_line(text, text.split(), number, capture), number_after
        except (_LineProblem, AddressError):
            continue
    return None


_NAME_NEWLINES_MAX = 15
"""A process name (comm) holds at most 15 characters."""


def _is_header(parts: list[str]) -> bool:
    return parts[0] in HEADER_STARTS and "Recv-Q" in parts


def _parse_line(line: str, parts: list[str], number: int, capture: Capture) -> RawSocket | None:
    first = parts[0]
    state = STATES.get(first)
    if state is not None:
        if capture.has_netid_column:
            raise _LineProblem(FORGED)
        at = 0
        proto = _netidless(state, capture)
    else:
        found = NETIDS.get(first)
        if found is None:
            if first in OTHER_NETIDS:
                return None
            if _queues_at(parts, 0):
                raise _LineProblem(NO_STATE_COLUMN)
            raise _LineProblem(f"unknown Netid or State {first!r}")
        proto, at = found, 1
        state = STATES.get(parts[1]) if len(parts) > 1 else None
        if state is None:
            if _queues_at(parts, 1):
                raise _LineProblem(NO_STATE_COLUMN)
            raise _LineProblem(f"unknown state {parts[1] if len(parts) > 1 else ''!r}")
    if len(parts) < at + 5:
        raise _LineProblem("too few columns")
    recv_text, send_text = parts[at + 1], parts[at + 2]
    if not (recv_text.isdecimal() and send_text.isdecimal()):  # counts: no sign
        raise _LineProblem("Recv-Q/Send-Q are not counts")
    recv_q, send_q = int(recv_text), int(send_text)
    if recv_q > QUEUE_MAX or send_q > QUEUE_MAX:
        raise _LineProblem(QUEUE_PROBLEM)
    if '",' in parts[at + 3]:  # ss's close of a name; an interface name may hold a quote
        raise _LineProblem(FORGED)
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


def _queues_at(parts: list[str], at: int) -> bool:
    """Whether Recv-Q and Send-Q stand where the State column belongs: the listing of a
    state filter that selects one state."""
    return len(parts) > at + 1 and parts[at].isdecimal() and parts[at + 1].isdecimal()


def _netidless(state: SocketState, capture: Capture) -> Proto:
    # LISTEN and the TCP teardown states exist only for TCP; ESTAB and UNCONN exist for both,
    # so they take the protocol the rest of the one-protocol listing shows.
    if state is SocketState.UNCONN:
        return Proto.TCP if capture.netidless_proto is Proto.TCP else Proto.UDP
    if state is not SocketState.ESTABLISHED:
        return Proto.TCP
    proto = capture.netidless_proto
    if proto is None:
        raise _LineProblem(PROTOCOL_UNKNOWN)
    return proto


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
    thread_entries: dict[tuple[int, int], int] = {}  # -T: (pid, fd) -> its index in found
    while (entry := _USER_ENTRY.match(line, position)) is not None:
        name, pid, tid, fd = entry.groups()
        descriptor = (int(pid), int(fd))
        process = RawProcess(name, *descriptor)
        if tid is None:
            found.append(process)
        elif (at := thread_entries.get(descriptor)) is None:
            # with -T every thread of a process lists the descriptors they all share
            thread_entries[descriptor] = len(found)
            found.append(process)
        elif tid == pid:
            found[at] = process  # the main thread carries the process's own name
        position = entry.end()
        if line.startswith(",", position):
            position += 1
    if not found or not line.startswith(")", position):
        raise _Unclosed("unreadable users:(...) column")
    return tuple(found), line[position + 1 :]
