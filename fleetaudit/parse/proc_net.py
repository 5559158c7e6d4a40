"""The ``/proc/net/{tcp,tcp6,udp,udp6}`` dialect: the fallback when neither tool exists.

Addresses are hex in host byte order (little-endian on every architecture fleetaudit
targets): IPv4 as one 32-bit word, IPv6 as four. States are the kernel's hex codes. There are
no process names, so every socket's owner is unknown. ``tx_queue:rx_queue`` are Send-Q and
Recv-Q as ss and netstat print them (on a LISTEN socket rx_queue is the accept queue).

The collector concatenates the files under ``==> /proc/net/NAME <==`` markers; a bare file
is recognised by its header (UDP's ends with ``drops``) and its address width. Sections of
other files (``raw``, ``unix``) are skipped: fleetaudit audits TCP and UDP sockets only.
"""

from __future__ import annotations

import ipaddress
import string
from functools import lru_cache

from fleetaudit.model.enums import Family, Proto, SocketState, Tool
from fleetaudit.model.raw import RawLineError, RawSocket
from fleetaudit.parse._addr import canonical_ipv6
from fleetaudit.parse.interface import ParseResult, lines_of

TCP_STATES: dict[str, SocketState] = {
    "01": SocketState.ESTABLISHED,
    "02": SocketState.SYN_SENT,
    "03": SocketState.SYN_RECV,
    "04": SocketState.FIN_WAIT1,
    "05": SocketState.FIN_WAIT2,
    "06": SocketState.TIME_WAIT,
    "07": SocketState.CLOSE,
    "08": SocketState.CLOSE_WAIT,
    "09": SocketState.LAST_ACK,
    "0A": SocketState.LISTEN,
    "0B": SocketState.CLOSING,
    "0C": SocketState.SYN_RECV,
}
# UDP reuses the TCP codes: 07 (TCP_CLOSE) is an unconnected socket, 01 a connected one.
UDP_STATES: dict[str, SocketState] = {"01": SocketState.ESTABLISHED, "07": SocketState.UNCONN}
MARKER_PREFIX = "==> /proc/net/"
SOCKET_TABLES: dict[str, Proto] = {
    "tcp": Proto.TCP,
    "tcp6": Proto.TCP,
    "udp": Proto.UDP,
    "udp6": Proto.UDP,
}
"""The files fleetaudit audits. Others pasted under their markers (:data:`OTHER_TABLES`:
``raw``, whose header is UDP's and whose port is the IP protocol number; ``unix``) are
skipped, as the ss and netstat readers skip those sockets. Without a marker, ``raw`` cannot
be told from ``udp``."""
OTHER_TABLES = frozenset(
    {"raw", "raw6", "udplite", "udplite6", "unix", "icmp", "icmp6", "packet", "netlink"}
)
"""/proc/net files of other sockets, skipped under their markers. A marker of any other
name (``tcp.txt``) is read by its header, as a bare file is."""
_UNIX_HEADER = "Num "


class _LineProblem(ValueError):
    """A data line that cannot be read; becomes a :class:`RawLineError`."""


def parse(text: str, *, privileged: bool = False, wide: bool = False) -> ParseResult:
    """Parse one or more /proc/net socket tables. ``privileged`` and ``wide`` change
    nothing: the files never name processes and print every address in full."""
    del privileged, wide
    sockets: list[RawSocket] = []
    errors: list[RawLineError] = []
    proto: Proto | None = None
    # Skipping another file's lines: until the next marker when its marker said so, until
    # the next socket table's header when only its own header did (no markers).
    skip_until: str | None = None
    for number, line in enumerate(lines_of(text), start=1):
        stripped = line.strip()
        if not stripped:
            continue
        if stripped.startswith("==> ") and stripped.endswith(" <=="):
            proto, skip_until = _section(stripped[4:-4])
            continue
        if stripped.startswith(_UNIX_HEADER):
            skip_until = skip_until or "header"
            continue
        if stripped.startswith("sl "):
            if skip_until == "header":
                skip_until = None
            if skip_until is None:
                proto = Proto.UDP if stripped.endswith("drops") else proto or Proto.TCP
            continue
        if skip_until is not None:
            continue
        try:
            sockets.append(_parse_line(stripped, number, proto or Proto.TCP))
        except (_LineProblem, ValueError) as exc:
            errors.append(RawLineError(line=number, text=line[:300], reason=str(exc)))
    return ParseResult(tuple(sockets), tuple(errors))


def _section(path: str) -> tuple[Proto | None, str | None]:
    """The protocol of the file under head/tail's marker ``==> PATH <==`` (None: its header
    will say), and whether to skip it: a /proc/net file of other sockets or of no sockets
    (``head /proc/net/*`` pastes arp, dev, ...), or one named like them elsewhere (``raw``).
    A file of another name (``tcp.txt``) is read by its header, as a bare file is."""
    directory, _, table = path.rpartition("/")
    proto = SOCKET_TABLES.get(table)
    in_proc = directory.endswith("/net")  # /proc/net, /proc/self/net, /proc/PID/net
    skipped = proto is None and (in_proc or table in OTHER_TABLES)
    return proto, "marker" if skipped else None


def _parse_line(line: str, number: int, proto: Proto) -> RawSocket:
    fields = line.split()
    if len(fields) < 10 or not fields[0].endswith(":"):
        raise _LineProblem("not a /proc/net socket line")
    local_address, local_port, family = _endpoint(fields[1])
    peer_address, peer_port, _ = _endpoint(fields[2])
    states = UDP_STATES if proto is Proto.UDP else TCP_STATES
    state = states.get(fields[3].upper())
    if state is None:
        raise _LineProblem(f"unknown {proto.value} state code {fields[3]!r}")
    tx_text, _, rx_text = fields[4].partition(":")
    if not (_is_hex_count(tx_text) and _is_hex_count(rx_text)):
        raise _LineProblem(f"unreadable tx_queue:rx_queue {fields[4]!r}")
    listening = state is SocketState.LISTEN or state is SocketState.UNCONN
    return RawSocket(
        tool=Tool.PROC,
        proto=proto,
        family=family,
        state=state,
        recv_q=int(rx_text, 16),
        send_q=int(tx_text, 16),
        local_address=local_address,
        local_port=local_port,
        local_interface=None,
        peer_address=peer_address,
        peer_port=None if listening and peer_port == 0 else peer_port,
        processes=(),
        owner_known=False,
        uid=int(fields[7]),
        inode=int(fields[9]),
        line=number,
    )


def _endpoint(text: str) -> tuple[str, int, Family]:
    address_hex, colon, port_hex = text.partition(":")
    if not colon:
        raise _LineProblem(f"no ':port' in {text!r}")
    address, family = _address(address_hex)
    return address, int(port_hex, 16), family


@lru_cache(maxsize=8192)
def _address(hex_text: str) -> tuple[str, Family]:
    if len(hex_text) == 8:
        return str(ipaddress.IPv4Address(bytes.fromhex(hex_text)[::-1])), Family.IPV4
    if len(hex_text) == 32:
        words = bytes.fromhex(hex_text)
        packed = b"".join(words[i : i + 4][::-1] for i in range(0, 16, 4))
        return canonical_ipv6(packed), Family.IPV6
    raise _LineProblem(f"address {hex_text!r} is neither 8 nor 32 hex digits")


def _is_hex_count(text: str) -> bool:
    """The kernel prints each queue as 8 hex digits (a 32-bit counter): no sign, no 0x."""
    return 0 < len(text) <= 8 and all(char in string.hexdigits for char in text)
