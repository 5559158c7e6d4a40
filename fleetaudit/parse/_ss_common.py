"""What both ss readers share: the vocabulary, capture-wide facts, and the one function that
turns read fields into a :class:`RawSocket` (so the fast path and the exact reader cannot
disagree on wildcards, families or ownership)."""

from __future__ import annotations

import re
from functools import cached_property

from fleetaudit.model.address import name_family
from fleetaudit.model.enums import Family, Proto, SocketState, Tool
from fleetaudit.model.raw import LISTENING, NEW_RECORD, RawProcess, RawSocket
from fleetaudit.parse._addr import WILDCARD, AddressError
from fleetaudit.parse._ss_evidence import (
    has_netid_column,
    netidless_is_tcp,
    star_is_dual_stack_v6,
)

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
USERS = "users:("
HEADER_STARTS = ("Netid", "State", "Recv-Q")
"""First words of an ss header: ``Recv-Q`` when both Netid and State are left out (one
protocol, and a state filter that selects one state)."""
EXTRA = re.compile(r"\b(uid|ino|v6only):(\d+)")
_NETID_WORDS = frozenset({"Netid", *NETIDS, *OTHER_NETIDS})
STAR_UNKNOWN = (
    "ss printed '*' as the local address: the IPv4 wildcard in ss before iproute2 4.15 "
    "(RHEL/CentOS 7), an IPv6 socket that also accepts IPv4 since, and nothing in this "
    "capture tells which ss printed it; take the listing with -e (ss -tuanpe)"
)
# Module constants: build_record runs once per line, and enum attribute lookups add up.
_SS, _IPV4, _IPV6 = Tool.SS, Family.IPV4, Family.IPV6


class Capture:
    """Facts about the whole capture that decide how single lines are read. The costly ones
    are found on first use: most captures never need them."""

    def __init__(self, text: str, privileged: bool) -> None:
        self._text = text
        # Only a privileged capture that shows processes at all (-p was given) proves that a
        # line without users:(...) has no process (a kernel socket, TIME-WAIT), and even then
        # not for a listener not known to be root's (see _hidden).
        self.owner_known_without_users = privileged and USERS in text

    @cached_property
    def has_netid_column(self) -> bool:
        """Whether the listing's lines start with the Netid column (see
        :func:`._ss_evidence.has_netid_column`)."""
        return has_netid_column(self._text, _NETID_WORDS)

    @cached_property
    def star_is_dual_stack_v6(self) -> bool | None:
        """What a local ``*`` stands for (see :func:`._ss_evidence.star_is_dual_stack_v6`)."""
        return star_is_dual_stack_v6(self._text)

    @cached_property
    def netidless_proto(self) -> Proto | None:
        """The protocol of a listing without the Netid column (one protocol) for its lines
        in states TCP and UDP share; None when the listing does not show it."""
        tcp = netidless_is_tcp(self._text)
        return None if tcp is None else Proto.TCP if tcp else Proto.UDP


def build_record(
    capture: Capture,
    proto: Proto,
    state: SocketState,
    recv_q: int,
    send_q: int,
    local: str,
    local_port: int | None,
    local_interface: str | None,
    peer: str,
    peer_port: int | None,
    processes: tuple[RawProcess, ...],
    tail: str,
    number: int,
) -> RawSocket:
    """The record of one ss line from its read fields; ``tail`` is the text after the
    process column, where ``-e`` prints its ``uid:``/``ino:``/``v6only:`` extras. Flat
    arguments because it runs once per socket line."""
    uid = inode = v6only = None
    extras = dict(EXTRA.findall(tail)) if tail else None
    if extras:
        v6only_text = extras.get("v6only")
        v6only = None if v6only_text is None else v6only_text == "1"
        inode = int(extras["ino"]) if "ino" in extras else None
        uid = int(extras["uid"]) if "uid" in extras else (None if inode is None else 0)
    if local == "*" or local == "::":
        family, v6only = _family(local, v6only, inode is not None, capture)
        if local == "*":
            local = WILDCARD[family]
    elif ":" in local:
        family = _IPV6
    elif local[:1].isdecimal():
        family, v6only = _IPV4, None
    elif peer == "*" and capture.star_is_dual_stack_v6:
        # a host name (ss -r) with the peer this ss prints for IPv6 only (an IPv4 socket's
        # is 0.0.0.0): `localhost:8082 *:*` is bound to ::ffff:127.0.0.1 (QA)
        family, v6only = _IPV6, None
    else:  # a host name (ss -r)
        family, v6only = name_family(local, peer), None
    return NEW_RECORD(
        RawSocket,
        (
            _SS,
            proto,
            family,
            state,
            recv_q,
            send_q,
            local,
            local_port,
            local_interface,
            WILDCARD[family] if peer == "*" else peer,
            peer_port,
            processes,
            bool(processes) or (capture.owner_known_without_users and not _hidden(uid, state)),
            uid,
            inode,
            v6only,
            number,
        ),
    )


def _hidden(uid: int | None, state: SocketState) -> bool:
    """A listener shown without a process, not known to be root's (a non-root uid, or no
    ``-e`` to say): the kernel owns only root's sockets, so its process may have been hidden
    from the tool (another PID namespace, or a ``/proc/PID/fd`` closed even to root), and the
    owner is unknown, not absent."""
    return uid != 0 and state in LISTENING


def _family(
    address: str, v6only: bool | None, has_extras: bool, capture: Capture
) -> tuple[Family, bool | None]:
    if address == "*":
        if v6only is not None:
            return Family.IPV6, v6only
        if has_extras:
            # -e prints v6only: for every IPv6 socket, so this one is IPv4 (older ss)
            return Family.IPV4, None
        meaning = capture.star_is_dual_stack_v6
        if meaning is None:
            raise AddressError(STAR_UNKNOWN)
        return (Family.IPV6, False) if meaning else (Family.IPV4, None)
    if ":" in address:
        if v6only is None and address == "::" and capture.star_is_dual_stack_v6:
            v6only = True  # this ss would have printed "*" for a dual-stack socket
        return Family.IPV6, v6only
    return Family.IPV4, None
