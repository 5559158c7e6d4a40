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

from fleetaudit.model.enums import Family, Proto, SocketState, Tool
from fleetaudit.model.host import LineError
from fleetaudit.model.socket import RawProcess, RawSocket
from fleetaudit.parse._addr import AddressError, Endpoint, is_ipv6_text, split_endpoint
from fleetaudit.parse.interface import ParseResult

STATES: dict[str, SocketState] = {
    "LISTEN": SocketState.LISTEN,
    "ESTAB": SocketState.ESTABLISHED,
    "UNCONN": SocketState.UNCONN,
    "SYN-SENT": SocketState.SYN_SENT,
    "SYN-RECV": SocketState.SYN_RECV,
    "FIN-WAIT-1": SocketState.FIN_WAIT1,
    "FIN-WAIT-2": SocketState.FIN_WAIT2,
    "TIME-WAIT": SocketState.TIME_WAIT,
    "CLOSE-WAIT": SocketState.CLOSE_WAIT,
    "LAST-ACK": SocketState.LAST_ACK,
    "CLOSING": SocketState.CLOSING,
    "CLOSED": SocketState.CLOSE,
}
NETIDS: dict[str, Proto] = {"tcp": Proto.TCP, "udp": Proto.UDP}
OTHER_NETIDS = frozenset(
    "raw u_str u_dgr u_seq nl p_raw p_dgr mptcp sctp dccp v_str v_dgr xdp tipc icmp icmp6"
    " unknown ???".split()
)
_TCP_ONLY_STATES = re.compile(
    r"^(?:\S+\s+)?(?:LISTEN|SYN-SENT|SYN-RECV|FIN-WAIT|TIME-WAIT|CLOSE-WAIT|LAST-ACK|CLOSING)\s",
    re.MULTILINE,
)
_PEER = re.compile(r"(\[[^\]]*\](?:%[^:\s]*)?|[^:\[\]]*):(\*|\d+)(.*)")
_USER_ENTRY = re.compile(r'\("(.*?)",(?:pid=)?(\d+),(?:fd=)?(\d+)\)')
_EXTRA = re.compile(r"\b(uid|ino|v6only):(\d+)")
_USERS = "users:("
_WILDCARD = {Family.IPV4: "0.0.0.0", Family.IPV6: "::"}  # noqa: S104 (text, not a bind)


class _LineProblem(ValueError):
    """A data line that cannot be read; becomes a :class:`LineError`."""


class _Capture:
    """Facts about the whole capture that decide how single lines are read."""

    def __init__(self, text: str, privileged: bool) -> None:
        self.star_is_dual_stack_v6 = "0.0.0.0:" in text
        # Only a privileged capture that shows processes at all (-p was given) proves that a
        # line without users:(...) has no process (a kernel socket, TIME-WAIT).
        self.owner_known_without_users = privileged and _USERS in text
        tcp_evidence = _TCP_ONLY_STATES.search(text) is not None
        self.netidless_proto = Proto.UDP if "UNCONN" in text and not tcp_evidence else Proto.TCP


def parse(text: str, *, privileged: bool = False) -> ParseResult:
    """Parse ``ss`` output; lines of other socket kinds (unix, netlink, raw) are skipped."""
    capture = _Capture(text, privileged)
    sockets: list[RawSocket] = []
    errors: list[LineError] = []
    for number, line in enumerate(text.splitlines(), start=1):
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
    return ParseResult(tuple(sockets), tuple(errors))


def _is_header(parts: list[str]) -> bool:
    return parts[0] in ("Netid", "State") and "Recv-Q" in parts


def _parse_line(line: str, parts: list[str], number: int, capture: _Capture) -> RawSocket | None:
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
    try:
        recv_q, send_q = int(parts[at + 1]), int(parts[at + 2])
    except ValueError:
        raise _LineProblem("Recv-Q/Send-Q are not numbers") from None
    local = split_endpoint(parts[at + 3])
    peer, glued = _split_peer(parts[at + 4])
    processes, tail = _processes(line, parts, at + 5, glued)
    extras = dict(_EXTRA.findall(tail)) if tail else {}
    family, v6only = _family(local, extras, capture)
    wildcard = _WILDCARD[family]
    return RawSocket(
        tool=Tool.SS,
        proto=proto,
        family=family,
        state=state,
        recv_q=recv_q,
        send_q=send_q,
        local_address=wildcard if local.address == "*" else local.address,
        local_port=local.port,
        local_interface=local.interface,
        peer_address=wildcard if peer.address == "*" else peer.address,
        peer_port=peer.port,
        processes=processes,
        owner_known=bool(processes) or capture.owner_known_without_users,
        uid=int(extras["uid"]) if "uid" in extras else (0 if "ino" in extras else None),
        inode=int(extras["ino"]) if "ino" in extras else None,
        v6only=v6only,
        line=number,
    )


def _netidless(state: SocketState, capture: _Capture) -> Proto:
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
    start = line.find(_USERS)
    if start < 0:
        rest = parts[extras_at:]
        return (), f"{glued} {' '.join(rest)}" if rest or glued else ""
    position = start + len(_USERS)
    found: list[RawProcess] = []
    while (entry := _USER_ENTRY.match(line, position)) is not None:
        found.append(RawProcess(entry[1], int(entry[2]), int(entry[3])))
        position = entry.end()
        if line.startswith(",", position):
            position += 1
    if not found or not line.startswith(")", position):
        raise _LineProblem("unreadable users:(...) column")
    return tuple(found), line[position + 1 :]


def _family(
    local: Endpoint, extras: dict[str, str], capture: _Capture
) -> tuple[Family, bool | None]:
    v6only_text = extras.get("v6only")
    v6only = None if v6only_text is None else v6only_text == "1"
    if local.address == "*":
        if v6only is not None or capture.star_is_dual_stack_v6:
            return Family.IPV6, False if v6only is None else v6only
        return Family.IPV4, None
    if is_ipv6_text(local.address):
        if v6only is None and local.address == "::" and capture.star_is_dual_stack_v6:
            v6only = True  # this ss would have printed "*" for a dual-stack socket
        return Family.IPV6, v6only
    return Family.IPV4, None
