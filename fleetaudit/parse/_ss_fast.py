"""The fast path of the ss dialect: one regex per line, for the shape current ss prints.

``ss -tuanpe`` output is mostly lines of one shape: Netid, State, two queues, two bracketed
or dotted endpoints, a ``users:`` list, ``-e`` extras. One compiled regex takes
such a line whole, which is several times cheaper than splitting and reading it field by
field. Anything else (headers, other socket kinds, old ss, quoted names, odd fields)
returns None and goes to the exact reader in :mod:`.ss`. Both build the record with
:func:`._ss_common.build_record`, and a differential test holds them equal line by line.
"""

from __future__ import annotations

import re

from fleetaudit.model.raw import NEW_RECORD, RawProcess, RawSocket
from fleetaudit.parse._addr import QUEUE_MAX, address_problem
from fleetaudit.parse._ss_common import NETIDS, STATES, USERS, Capture, build_record

_ENDPOINT = r"(\[[0-9a-f:.]+\]|[0-9.]+|\*)"
_ROW = re.compile(
    rf"(tcp|udp)[ \t]+([A-Z][A-Z0-9-]*)[ \t]+(\d{{1,10}})[ \t]+(\d{{1,10}})[ \t]+"
    rf"{_ENDPOINT}(?:%([\w.@-]+))?:(\d{{1,5}}|\*)[ \t]+"
    rf"{_ENDPOINT}:(\d{{1,5}}|\*)(?![0-9])[ \t]*"
    # One process, the common case, read by the row pattern itself; several, by _USERS_SECTION.
    rf'(?:users:\(\("([^"]*)",pid=(\d+),fd=(\d+)\)\))?(.*)'
)
# Names without a double quote only: anything else is the exact reader's business.
_ENTRY = r'\("[^"]*",pid=\d+,fd=\d+\)'
_USERS_SECTION = re.compile(rf"users:\(((?:{_ENTRY},)*{_ENTRY})\)")
_USER_FIELDS = re.compile(r'\("([^"]*)",pid=(\d+),fd=(\d+)\)')
_MAX_PORT = "65535"
_PORT_DIGITS = len(_MAX_PORT)
_MAX_QUEUE = str(QUEUE_MAX)  # the pattern takes at most this many digits
_QUEUE_DIGITS = len(_MAX_QUEUE)


def read_fast(line: str, number: int, capture: Capture) -> RawSocket | None:
    """The record of a common-shape line, or None to have the exact reader take it."""
    match = _ROW.fullmatch(line)
    if match is None:
        return None
    (netid, state_text, recv_q, send_q, local, interface, local_port, peer, peer_port,
     name, pid, fd, rest) = match.groups()  # fmt: skip
    state = STATES.get(state_text)
    if state is None:
        return None
    processes: tuple[RawProcess, ...] = ()
    if name is not None:
        processes = (NEW_RECORD(RawProcess, (name, int(pid), int(fd))),)
    elif USERS in rest:
        section = _USERS_SECTION.match(rest)
        if section is None:
            return None
        processes = tuple(
            [
                NEW_RECORD(RawProcess, (n, int(p), int(f)))
                for n, p, f in _USER_FIELDS.findall(section[1])
            ]
        )
        rest = rest[section.end() :]
    # Five digits compare with "65535" as text (ten with the queue limit); an out-of-range
    # port or count, like an impossible address, is the exact reader's to report.
    if (len(local_port) == _PORT_DIGITS and local_port > _MAX_PORT) or (
        len(peer_port) == _PORT_DIGITS and peer_port > _MAX_PORT
    ):
        return None
    if (len(recv_q) == _QUEUE_DIGITS and recv_q > _MAX_QUEUE) or (
        len(send_q) == _QUEUE_DIGITS and send_q > _MAX_QUEUE
    ):
        return None
    local = local[1:-1] if local[0] == "[" else local
    if local == "*":
        if capture.star_is_dual_stack_v6 is None and "ino:" not in rest:
            return None  # the exact reader reads the line's v6only:, or reports it
    elif address_problem(local) is not None:
        return None  # the exact reader reports it
    return build_record(
        capture,
        NETIDS[netid],
        state,
        int(recv_q),
        int(send_q),
        local,
        None if local_port == "*" else int(local_port),
        interface,
        peer[1:-1] if peer[0] == "[" else peer,
        None if peer_port == "*" else int(peer_port),
        processes,
        rest,
        number,
    )
