"""Sockets: the frozen model every stage after the parsers reads.

Two types on purpose. Parsers emit :class:`~fleetaudit.model.raw.RawSocket` (a named tuple,
in its own module) because building a validated pydantic model costs more than parsing the
line itself, and ``fleetaudit parse`` on 200,000 lines must stay close to a bare
``str.split`` loop. :meth:`Socket.from_raw` adds the derived, named fields (accept queue,
backlog limit, bind scope) once, at the model stage.

:class:`Socket` and :class:`Process` are frozen pydantic dataclasses with ``__slots__``, not
``BaseModel`` subclasses: validated, serialised and given a JSON schema the same way, but
without a per-instance ``__dict__`` and field-name set. A run keeps every socket until the
report is written, and a busy host has hundreds of thousands: as models they took about
2.1 KB each, as slotted dataclasses about 0.3 KB (``bench/host_memory.py``).
"""

from __future__ import annotations

from collections.abc import Set as AbstractSet

from pydantic import ConfigDict, Field
from pydantic.dataclasses import dataclass

from fleetaudit.model.enums import BindScope, Family, Proto, SocketState
from fleetaudit.model.names import program_name
from fleetaudit.model.raw import LISTENING, RawSocket, socket_record

OWNER_UNKNOWN = "(owner unknown)"
"""The owner label of a socket whose owner the listing could not show (``owner_label``)."""

_RECORD_CONFIG = ConfigDict(extra="forbid")


@dataclass(frozen=True, slots=True, config=_RECORD_CONFIG)
class Process:
    """A process holding a socket. ``name`` is the comm (ss, <=15 chars; netstat in a run,
    whose script reads the comms) or the piece of the command line a saved netstat capture
    prints (net-tools: its start, cut to fit a 19-character ``PID/name`` field; busybox and
    toybox: what follows its last ``/``)."""

    name: str
    pid: int | None
    fd: int | None
    read_comm: bool = Field(default=False, exclude=True, repr=False)
    """``name`` is the comm the collection script read (``/proc/PID/comm``) for a netstat
    that printed a piece of the command line: whole, as ss prints it. Never written out:
    only the judging of the run that read it needs it."""

    @property
    def is_comm(self) -> bool:
        """Whether ``name`` is a comm, cut only at 15 bytes (printed by ss, which gives a
        descriptor too, or read from /proc), never at netstat's 19-column field (QA: the
        comm ``node_exporter`` of PID 12345 stood for ``node_exporter_custom``)."""
        return self.fd is not None or self.read_comm


@dataclass(frozen=True, slots=True, config=_RECORD_CONFIG)
class Socket:
    """A TCP or UDP socket as fleetaudit understands it; the public JSON schema.

    ``accept_queue`` and ``backlog_limit`` are set on LISTEN sockets only: the accept queue
    is Recv-Q for every tool; the backlog limit is ss's Send-Q, and ``None`` (unknown, not 0)
    for netstat and /proc/net, which print 0 there.
    """

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
    processes: tuple[Process, ...]
    owner_known: bool
    uid: int | None
    inode: int | None
    accept_queue: int | None
    backlog_limit: int | None
    bind_scope: BindScope
    accepts_ipv4: bool | None
    """For an IPv6 wildcard (``::`` or ``*``, bound to a device or not): True if it also
    accepts IPv4 (not IPV6_V6ONLY), False if v6-only, None when the tool did not say. True
    for a listener on an IPv4-mapped address (``::ffff:10.0.0.1``), which only IPv4
    reaches. None for every other socket."""

    @classmethod
    def from_raw(cls, raw: RawSocket, comm_pids: AbstractSet[int] = frozenset()) -> Socket:
        """Build the model from a parser record, adding the derived fields; the processes
        of ``comm_pids`` are named by the comm read for them (:attr:`Process.read_comm`)."""
        record = socket_record(raw)
        if comm_pids:
            for process in record["processes"]:
                process["read_comm"] = process["pid"] in comm_pids
        return _validate_socket(record)  # type: ignore[no-any-return]

    @property
    def is_listener(self) -> bool:
        """True for sockets that accept traffic from others: TCP LISTEN, unconnected UDP."""
        return self.state in LISTENING

    @property
    def endpoint(self) -> str:
        """The local end as an operator writes it: ``0.0.0.0:22``, ``[::1]:53``,
        ``127.0.0.53%lo:53``."""
        address = self.local_address
        if self.local_interface:
            address += f"%{self.local_interface}"
        if self.family is Family.IPV6:
            address = f"[{address}]"
        port = "*" if self.local_port is None else str(self.local_port)
        return f"{address}:{port}"

    @property
    def listener(self) -> str:
        """The protocol and local end, ``udp/0.0.0.0:11211``: how a report's listener column
        shows it, so that a TCP and a UDP finding on one port do not read as one twice."""
        return f"{self.proto.value}/{self.endpoint}"

    @property
    def process_names(self) -> tuple[str, ...]:
        """Distinct process names in order of appearance."""
        return tuple(dict.fromkeys(p.name for p in self.processes))

    @property
    def program_names(self) -> tuple[str, ...]:
        """Distinct programs behind the process names, sorted: the part of a listener's
        identity that survives a restart (see :func:`~fleetaudit.model.names.program_name`)."""
        return tuple(sorted({program_name(p.name) for p in self.processes}))

    @property
    def owner_label(self) -> str:
        """A human label for who owns the socket; never blank, never "no process" when the
        owner could simply not be seen."""
        if self.processes:
            # One process may hold a socket through several descriptors: name it once.
            labels = (f"{p.name}[{p.pid}]" if p.pid is not None else p.name for p in self.processes)
            return ",".join(dict.fromkeys(labels))
        return "(none)" if self.owner_known else OWNER_UNKNOWN


_validate_socket = Socket.__pydantic_validator__.validate_python  # type: ignore[attr-defined]
"""Validates a socket's fields given as one dict: half the cost of ``Socket(**fields)``,
which first packs the keywords for the same validator."""
