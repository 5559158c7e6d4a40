"""The record a parser emits for each socket line, and the fields fleetaudit derives from it.

Kept apart from :mod:`fleetaudit.model.socket` (the validated pydantic model) so that the
parsers and ``fleetaudit parse`` never import pydantic: on a small capture, importing it
took longer than the parse. :meth:`~fleetaudit.model.socket.Socket.from_raw` turns a record
into the model at the model stage.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from fleetaudit.model.address import classify_scope
from fleetaudit.model.enums import BindScope, Family, Proto, SocketState, Tool

LISTENING = frozenset({SocketState.LISTEN, SocketState.UNCONN})
"""The states of sockets that accept traffic from others: TCP LISTEN, unconnected UDP."""


class RawProcess(NamedTuple):
    """One process holding a socket, as the tool printed it."""

    name: str
    pid: int | None
    fd: int | None


class RawSocket(NamedTuple):
    """One socket line, lexed and normalised by a parser; no derived fields yet.

    ``recv_q``/``send_q`` are the numbers exactly as the tool printed them: their meaning
    depends on the state and the tool (see :func:`derive`). A named tuple because it
    is immutable and the cheapest record Python builds: parsers make one per line.
    """

    tool: Tool
    proto: Proto
    family: Family
    state: SocketState
    recv_q: int
    send_q: int
    local_address: str
    local_port: int | None
    local_interface: str | None
    peer_address: str | None
    peer_port: int | None
    processes: tuple[RawProcess, ...]
    owner_known: bool
    uid: int | None = None
    inode: int | None = None
    v6only: bool | None = None
    line: int = 0


class RawLineError(NamedTuple):
    """A line a parser could not read (the other lines still were): its number, its text
    cut to 300 characters, and why. :meth:`~fleetaudit.model.host.LineError.from_raw`
    makes it part of a host's snapshot."""

    line: int
    text: str
    reason: str


NEW_RECORD = tuple.__new__
"""Builds a :class:`RawSocket` or :class:`RawProcess` from a tuple of all its fields, for the
parsers' per-line loops: a NamedTuple's own ``__new__`` is a Python function, this is C and
costs half as much."""


def derive(raw: RawSocket) -> tuple[int | None, int | None, BindScope, bool | None]:
    """The fields fleetaudit adds to a parser record: accept queue, backlog limit, bind scope
    and whether an IPv6 wildcard also accepts IPv4 (see the model,
    :class:`~fleetaudit.model.socket.Socket`).

    The single definition, used by ``Socket.from_raw`` (through :func:`socket_record`) and by
    the ``fleetaudit parse`` JSON writer. A plain tuple: this runs once per socket.
    """
    listening = raw.state is SocketState.LISTEN
    return (
        raw.recv_q if listening else None,
        # Only ss prints the backlog limit (as Send-Q); netstat and /proc/net print 0 there.
        raw.send_q if listening and raw.tool is Tool.SS else None,
        classify_scope(raw.local_address, raw.local_interface),
        _accepts_ipv4(raw) if raw.family is Family.IPV6 else None,
    )


_IPV6_WILDCARDS = frozenset({"::", "*"})
_IPV4_MAPPED = "::ffff:"


def _accepts_ipv4(raw: RawSocket) -> bool | None:
    """Whether an IPv6 socket takes IPv4: a wildcard unless it is v6-only (None when the
    tool did not say), whatever device it is bound to (``*%lo``, QA: a v6-only ``[::]%lo``
    was judged as perhaps taking IPv4); a listener on an IPv4-mapped address always, and
    only IPv4."""
    address = raw.local_address
    if address in _IPV6_WILDCARDS:
        v6only = raw.v6only
        return None if v6only is None else not v6only
    if address.startswith(_IPV4_MAPPED) and "." in address and raw.state in LISTENING:
        return True
    return None


def socket_record(raw: RawSocket) -> dict[str, Any]:
    """The public JSON object of a socket (the :class:`Socket` schema) as plain data."""
    accept_queue, backlog_limit, bind_scope, accepts_ipv4 = derive(raw)
    return {
        # Enum members are str subclasses: json writes their value, pydantic validates them.
        "proto": raw.proto,
        "family": raw.family,
        "state": raw.state,
        "recv_q": raw.recv_q,
        "send_q": raw.send_q,
        "local_address": raw.local_address,
        "local_port": raw.local_port,
        "local_interface": raw.local_interface,
        "peer_address": raw.peer_address,
        "peer_port": raw.peer_port,
        "processes": [{"name": p.name, "pid": p.pid, "fd": p.fd} for p in raw.processes],
        "owner_known": raw.owner_known,
        "uid": raw.uid,
        "inode": raw.inode,
        "accept_queue": accept_queue,
        "backlog_limit": backlog_limit,
        "bind_scope": bind_scope,
        "accepts_ipv4": accepts_ipv4,
    }
