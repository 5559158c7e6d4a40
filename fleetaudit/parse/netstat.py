"""The ``netstat`` dialect: net-tools (``-tunap``, ``-tulnp``, ``-W``, ``-e``, old releases)
and busybox.

Columns: Proto, Recv-Q, Send-Q, Local Address, Foreign Address, State, then with ``-e`` User
and Inode, then with ``-p`` ``PID/Program name``, then with ``-o`` Timer (``off (0.00/0/0)``,
``keepalive (7175.20/0/0)``). The header says which optional columns exist. UDP lines leave
State empty (an unconnected socket), so columns are read by meaning, not by position. The
program name is cut to fit a 19-character field and may hold spaces and colons
(``600/sshd: /usr/sbin``), so it is everything after the PID's slash (and before the timer).

``-`` in the PID column means netstat could not see the process: the owner is unknown,
unless the capture was taken as root, where it means the socket has no process (TIME_WAIT,
kernel sockets). A listener is the kernel's only when ``-e`` shows it belongs to root: one
of another uid, or of a uid not shown (no ``-e``; busybox), may be a process hidden from
netstat (another PID namespace), and its owner is unknown. netstat prints 0 as Send-Q of
a LISTEN socket: it does not know the backlog limit, which the model therefore leaves unknown.

busybox prints the same columns (``-e`` adds none to Internet sockets; ``-p`` exists only
if it was built in) with three differences: IPv6 sockets are labelled ``tcp``/``udp``, so
the family is read from the address; addresses are never truncated; and the program is the
base name of ``argv[0]`` (``1234/nginx -g daemon`` for a master whose rewritten title is
``nginx: master process /usr/sbin/nginx -g daemon off;``), cut like net-tools' to fit 19
characters with the PID. For a title whose last ``/`` is in its arguments that is no name
at all (``alt.conf [listener]`` for an sshd given ``-f /etc/ssh/alt.conf``): the names are
kept as printed, and a run replaces them with the comms its script reads
(:func:`fleetaudit.snapshot.build_snapshot`).
"""

from __future__ import annotations

import re

from fleetaudit.model.enums import Family, Proto, SocketState, Tool
from fleetaudit.model.raw import LISTENING, NEW_RECORD, RawLineError, RawProcess, RawSocket
from fleetaudit.parse._addr import (
    QUEUE_MAX,
    QUEUE_PROBLEM,
    WILDCARD,
    AddressError,
    Endpoint,
    address_problem,
    split_endpoint,
)
from fleetaudit.parse._stderr_lines import is_netstat_notice, ran_unprivileged
from fleetaudit.parse.interface import ParseResult, lines_of

STATES: dict[str, SocketState] = {
    "LISTEN": SocketState.LISTEN,
    "ESTABLISHED": SocketState.ESTABLISHED,
    "SYN_SENT": SocketState.SYN_SENT,
    "SYN_RECV": SocketState.SYN_RECV,
    "FIN_WAIT1": SocketState.FIN_WAIT1,
    "FIN_WAIT2": SocketState.FIN_WAIT2,
    "TIME_WAIT": SocketState.TIME_WAIT,
    "CLOSE": SocketState.CLOSE,
    "CLOSE_WAIT": SocketState.CLOSE_WAIT,
    "LAST_ACK": SocketState.LAST_ACK,
    "CLOSING": SocketState.CLOSING,
}
PROTOS: dict[str, tuple[Proto, Family]] = {
    "tcp": (Proto.TCP, Family.IPV4),
    "tcp6": (Proto.TCP, Family.IPV6),
    "udp": (Proto.UDP, Family.IPV4),
    "udp6": (Proto.UDP, Family.IPV6),
}
# Sockets fleetaudit does not audit (counted), and the title lines of the sections.
OTHER_KINDS = frozenset({"raw", "raw6", "udpl", "udpl6", "unix"})
SKIPPED_LINES = frozenset({"Proto", "Active"})
# net-tools' -o column: a timer name and (seconds left/retransmits/probes), after the program
_SHOWS_A_PROCESS = re.compile(r"\s\d+/[^\s/]")
"""A ``PID/Program name`` cell (a timer's ``(0.00/0/0)`` never follows a blank)."""
_TIMER = re.compile(
    r"\s*\b(?:off|on|keepalive|timewait|probe|unkn-\d+) \(-?\d+\.\d\d/-?\d+/-?\d+\)\s*$"
)


class _LineProblem(ValueError):
    """A data line that cannot be read; becomes a :class:`RawLineError`."""


class _Columns:
    """Which optional columns the most recent header announced."""

    def __init__(self) -> None:
        self.user_inode = False
        self.program = False
        self.timer = False

    def read_header(self, line: str) -> None:
        self.user_inode = "Inode" in line
        self.program = "PID/Program" in line
        self.timer = line.rstrip().endswith("Timer")


def parse(text: str, *, privileged: bool = False, wide: bool = False) -> ParseResult:
    """Parse ``netstat`` output; the UNIX-domain section and raw sockets are skipped.

    ``wide``: the capture is known to hold every address whole (taken with ``-W``). Without
    it, an IPv6 endpoint that fills the 23-character column exactly may have been cut (see
    :func:`_reject_cut_addresses`), unless a longer endpoint shows the capture is wide.
    """
    columns = _Columns()
    # As for ss: only a root capture that shows some process proves that "-" means "no
    # process"; one that shows none (taken from another PID namespace) names nobody's.
    privileged = (
        privileged and _SHOWS_A_PROCESS.search(text) is not None and not ran_unprivileged(text)
    )
    sockets: list[RawSocket] = []
    errors: list[RawLineError] = []
    may_be_cut: list[tuple[int, str]] = []
    widest = 0
    other_kinds = 0
    for number, line in enumerate(lines_of(text), start=1):
        fields = line.split(None, 5)
        if not fields:
            continue
        first = fields[0]
        if first not in PROTOS:
            if first == "Proto":
                columns.read_header(line)
                continue
            if first in OTHER_KINDS:
                other_kinds += 1
                continue
            if first in SKIPPED_LINES or _is_other_section(line) or is_netstat_notice(line):
                continue
        try:
            sockets.append(_parse_line(fields, number, columns, privileged))
        except (_LineProblem, AddressError) as exc:
            reason = str(exc)
            if isinstance(exc, AddressError) and _fills_column(fields) and not wide:
                reason += f": it {_CUT}"
            errors.append(RawLineError(line=number, text=line[:300], reason=reason))
            continue
        if not wide and (len(fields[3]) >= _ADDRESS_COLUMN or len(fields[4]) >= _ADDRESS_COLUMN):
            # an endpoint that fills the column may have been cut; a longer one shows the
            # capture is wide. (Numeric IPv4 endpoints never reach it: only names do.)
            longest = max(len(fields[3]), len(fields[4]))
            widest = max(widest, longest)
            if longest == _ADDRESS_COLUMN and _cut_by_this_tool(first, sockets[-1]):
                may_be_cut.append((len(sockets) - 1, line))
    if may_be_cut and not wide and widest <= _ADDRESS_COLUMN:
        sockets, errors = _reject_cut_addresses(sockets, errors, may_be_cut)
    return ParseResult(tuple(sockets), tuple(errors), other_kinds)


_ADDRESS_COLUMN = 23
"""Width of netstat's address columns; without ``-W`` net-tools (and toybox) cut a longer
``host:port`` to exactly this many characters, keeping the port."""
_CUT = (
    "fills netstat's 23-character column and may have been cut; capture with netstat -W "
    "(or pass --wide if it was)"
)


def _fills_column(fields: list[str]) -> bool:
    return len(fields) > 4 and _ADDRESS_COLUMN in (len(fields[3]), len(fields[4]))


def _cut_by_this_tool(proto_text: str, socket: RawSocket) -> bool:
    """Whether the tool that printed the line cuts addresses: net-tools and toybox do, and
    label IPv6 lines ``tcp6``/``udp6``; busybox labels them ``tcp``/``udp`` and never cuts."""
    return proto_text[-1] == "6" or socket.family is Family.IPV4


def _reject_cut_addresses(
    sockets: list[RawSocket], errors: list[RawLineError], may_be_cut: list[tuple[int, str]]
) -> tuple[list[RawSocket], list[RawLineError]]:
    """Turn the lines whose endpoint fills the address column into line errors.

    net-tools cuts the host part, so the text left is often still a valid address, just the
    wrong one (``2a01:4f8:c17:1a2::1234:443`` prints as ``2a01:4f8:c17:1a2::1:443``; without
    ``-n``, ``10.77.0.123:ms-wbt-server`` as ``10.77.0.1:ms-wbt-server`` and a host name
    as another, ``localhost``). Such a line cannot be told from an address of exactly that
    length, so it is reported rather than guessed.
    """
    cut = {index for index, _ in may_be_cut}
    reason = f"the address {_CUT}"
    errors = errors + [
        RawLineError(line=sockets[index].line, text=line[:300], reason=reason)
        for index, line in may_be_cut
    ]
    kept = [s for index, s in enumerate(sockets) if index not in cut]
    return kept, sorted(errors, key=lambda error: error.line)


def _is_other_section(line: str) -> bool:
    # Section titles ("Active Internet connections ...") and unix rows printed under them.
    return line.startswith(("Active ", "unix ", "Kernel "))


def _parse_line(fields: list[str], number: int, columns: _Columns, privileged: bool) -> RawSocket:
    if len(fields) < 5:
        raise _LineProblem("too few columns")
    proto_text, recv_text, send_text, local_text, peer_text = fields[:5]
    known = PROTOS.get(proto_text)
    if known is None:
        raise _LineProblem(f"unknown protocol {proto_text!r}")
    proto, family = known
    if not (recv_text.isdecimal() and send_text.isdecimal()):  # counts: no sign
        raise _LineProblem("Recv-Q/Send-Q are not counts")
    recv_q, send_q = int(recv_text), int(send_text)
    if recv_q > QUEUE_MAX or send_q > QUEUE_MAX:
        raise _LineProblem(QUEUE_PROBLEM)
    rest = fields[5] if len(fields) > 5 else ""
    state, rest = _state(proto, rest)
    uid, inode, rest = _user_inode(rest) if columns.user_inode else (None, None, rest)
    if columns.timer:
        rest = _without_timer(rest)
    processes, owner_known = _program(rest, columns.program, privileged)
    if owner_known and not processes and uid != 0 and state in LISTENING:
        owner_known = False  # only root's listeners can be the kernel's: see the docstring
    local = split_endpoint(local_text)
    if (problem := address_problem(local.address)) is not None:
        raise AddressError(problem)
    peer = split_endpoint(peer_text)
    if state is SocketState.UNCONN and peer.port is not None:
        # netstat prints ESTABLISHED for a connected UDP socket; ss with a one-state
        # filter (no State column) prints this
        raise _LineProblem("a UDP socket with a peer but no state: not netstat output")
    if family is Family.IPV4 and (":" in local.address or ":" in peer.address):
        # busybox labels IPv6 sockets "tcp"/"udp" too; without -n only the peer may show
        # it (`localhost:9009 :::*`)
        family = Family.IPV6
    if family is Family.IPV6:
        local, peer = _mapped(local), _mapped(peer)
    if local.address == "*" or peer.address == "*":
        # netstat without -n prints the IPv4 wildcard as "*" (`*:ssh`): the canonical form
        local, peer = _unstarred(local, WILDCARD[family]), _unstarred(peer, WILDCARD[family])
    # Every field, positional: this runs once per line (see NEW_RECORD).
    return NEW_RECORD(RawSocket, (
        Tool.NETSTAT, proto, family, state, recv_q, send_q,
        local.address, local.port, local.interface, peer.address, peer.port,
        processes, owner_known, uid, inode, None, number,
    ))  # fmt: skip


def _state(proto: Proto, rest: str) -> tuple[SocketState, str]:
    word, _, after = rest.partition(" ")
    state = STATES.get(word)
    if state is not None:
        return state, after.lstrip(" ")
    if proto is Proto.UDP:
        # An unconnected UDP socket: netstat leaves the State column blank.
        return SocketState.UNCONN, rest
    raise _LineProblem(f"unknown TCP state {word!r}")


def _user_inode(rest: str) -> tuple[int | None, int | None, str]:
    fields = rest.split(None, 2)
    if len(fields) < 2 or not fields[1].isdigit():
        raise _LineProblem("missing User/Inode columns")
    user, inode = fields[0], int(fields[1])
    # With -n the User column is the numeric uid; without it a name, of which only root's
    # uid is known here.
    uid = int(user) if user.isdigit() else (0 if user == "root" else None)
    return uid, inode, fields[2] if len(fields) > 2 else ""


def _without_timer(rest: str) -> str:
    timer = _TIMER.search(rest)
    if timer is None:
        raise _LineProblem("unreadable Timer column (netstat -o)")
    return rest[: timer.start()]


def _program(rest: str, has_column: bool, privileged: bool) -> tuple[tuple[RawProcess, ...], bool]:
    if not has_column:
        return (), False
    field = rest.strip()
    if field in ("-", ""):
        return (), privileged
    pid_text, slash, name = field.partition("/")
    if not slash or not pid_text.isdigit():
        raise _LineProblem(f"unreadable PID/Program name {field!r}")
    return (NEW_RECORD(RawProcess, (name, int(pid_text), None)),), True


def _unstarred(endpoint: Endpoint, wildcard: str) -> Endpoint:
    return endpoint._replace(address=wildcard) if endpoint.address == "*" else endpoint


def _mapped(endpoint: Endpoint) -> Endpoint:
    """netstat prints an IPv4-mapped address of a tcp6/udp6 socket in plain dotted form
    (``127.0.0.1:9000`` on a tcp6 line); restore the ``::ffff:`` form ss and /proc show."""
    address = endpoint.address
    if ":" in address or not address[:1].isdigit() or address.count(".") != 3:
        return endpoint
    return endpoint._replace(address=f"::ffff:{address}")
