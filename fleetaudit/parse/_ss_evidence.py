"""What a whole ss capture shows about the ss that printed it, read only from socket lines.

Two facts decide how some lines are read (see :mod:`.ss`): what a local ``*`` stands for,
and, in a listing of one protocol (no Netid column), whether its ESTAB and UNCONN lines are
TCP or UDP. Both are read from the address and state columns of whole socket lines, never
from anywhere in the text: a process name is chosen by whoever runs the process, and a name
such as ``x rto:1`` or ``0.0.0.0:1`` would otherwise decide how every other line is read.
A name cannot forge such a line either, even with a newline (which ss prints as it is): it
holds at most 15 characters, so the rest of it after the newline reaches the quote ss closes
it with (``",``) before it has spelled a state, two queues and an endpoint, and no endpoint
holds ``",``. (Several names on one socket would have room, so an address column never may.)
"""

from __future__ import annotations

import re

_TCP_ONLY = (
    "LISTEN",
    "SYN-SENT",
    "SYN-RECV",
    "FIN-WAIT",
    "TIME-WAIT",
    "CLOSE-WAIT",
    "LAST-ACK",
    "CLOSING",
)
# host:port, the port numeric, * or a service name; never '",': the rest of a process name
# that holds a newline always carries the quote and comma ss closes the name with (a quote
# alone may be part of an interface name)
_ENDPOINT = r'(?:(?!",)\S)+:(?:\*|[\w.-]+)'
_HEAD = r"(?:(?:tcp|udp)[ \t]+)?[A-Z][A-Z0-9-]*[ \t]+\d+[ \t]+\d+[ \t]+"
_END = r"(?:[ \t]|$)"
# Each is matched at the start of a line holding its needle.
_ZEROS_V4_WILDCARD = re.compile(
    rf"{_HEAD}(?:{_ENDPOINT}[ \t]+)?0\.0\.0\.0(?:%\S+)?:(?:\*|[\w.-]+){_END}"
)
_BARE_V6_WILDCARD = re.compile(rf"{_HEAD}(?:{_ENDPOINT}[ \t]+)?:::")
_STAR_PEER_OF_V4 = re.compile(
    rf"{_HEAD}\d{{1,3}}(?:\.\d{{1,3}}){{3}}(?:%\S+)?:(?:\*|[\w.-]+)[ \t]+\*:\*{_END}"
)
_NETIDLESS_LINE = re.compile(
    rf"[A-Z][A-Z0-9-]*[ \t]+\d+[ \t]+\d+[ \t]+{_ENDPOINT}[ \t]+{_ENDPOINT}{_END}"
)
_NEW_HEADER = re.compile(r"Address:Port\s*Process")
_NETID_HEADER = re.compile(r"Netid[ \t]+State[ \t]+Recv-Q[ \t]+Send-Q[ \t]")
_FIRST_WORD = re.compile(r"\s*(\S+)")
_CANDIDATES = 10_000
"""Lines looked at per needle: enough to pass the occurrences process names may hold."""


def star_is_dual_stack_v6(text: str) -> bool | None:
    """What a local ``*`` stands for: True, an IPv6 socket that also accepts IPv4 (ss 4.15
    and later, which print the IPv4 wildcard as ``0.0.0.0`` and name the Process column in
    later headers); False, the IPv4 wildcard (older ss, RHEL/CentOS 7 included, which print
    ``*:*`` as the peer of an IPv4 listener, and the oldest IPv6 wildcards as ``:::``); None
    when the capture shows neither."""
    if _on_a_line(text, "0.0.0.0:", _ZEROS_V4_WILDCARD) or _NEW_HEADER.search(text):
        return True
    if _on_a_line(text, ":::", _BARE_V6_WILDCARD) or _on_a_line(text, "*:*", _STAR_PEER_OF_V4):
        return False
    return None


def netidless_is_tcp(text: str) -> bool | None:
    """For a listing without the Netid column: True when a line is in a state only TCP has;
    else False when a line is UNCONN (UDP's state, but also that of a TCP socket that neither
    listens nor connects, hence second); None when neither shows (``ss -unp``, ``ss -tnp``)."""
    if any(_on_a_line(text, state, _NETIDLESS_LINE, at_start=True) for state in _TCP_ONLY):
        return True
    return False if _on_a_line(text, "UNCONN", _NETIDLESS_LINE, at_start=True) else None


def has_netid_column(text: str, netids: frozenset[str]) -> bool:
    """Whether the listing's lines start with the Netid column: its first word is one
    (``netids``), or its header, after a banner or prompt line, names it. Neither can come
    from a process name: the text starts with what ss printed first, and no name spells a
    header at the start of a line."""
    first = _FIRST_WORD.match(text)
    if first is not None and first[1] in netids:
        return True
    return _on_a_line(text, "Netid", _NETID_HEADER, at_start=True)


def _on_a_line(text: str, needle: str, line: re.Pattern[str], *, at_start: bool = False) -> bool:
    """Whether a line holding ``needle`` (at its start, with ``at_start``) matches ``line``
    from its start: the needle is in a socket line's columns, not only in a process name."""
    start = 0
    for _ in range(_CANDIDATES):
        found = text.find(needle, start)
        if found < 0:
            return False
        begin = text.rfind("\n", 0, found) + 1
        end = text.find("\n", found)
        end = len(text) if end < 0 else end
        if (not at_start or found == begin) and line.match(text, begin, end):
            return True
        start = end + 1
    return False
