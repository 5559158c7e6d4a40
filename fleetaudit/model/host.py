"""What was learnt about one host in one run."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any, Self

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator

from fleetaudit.model.enums import HostStatus, Privilege, Proto, Tool
from fleetaudit.model.raw import RawLineError
from fleetaudit.model.socket import Socket

Port = Annotated[int, Field(strict=True, ge=1, le=65535)]
"""A TCP/UDP port number (strict: ``true`` or ``"1024"`` in an edited report is refused, as
the shipped schema refuses it)."""

QueuePair = tuple[int, int]

_FIELD_SETS: dict[frozenset[str], set[str]] = {}
"""One shared ``model_fields_set`` per distinct set of field names (see share_fields_set)."""


def share_fields_set(model: BaseModel) -> None:
    """Make ``model`` use the one shared copy of its ``model_fields_set``.

    pydantic gives every instance its own set of the names of the fields it was given (a
    snapshot's 17 names take a 728-byte set), and a run keeps every snapshot until the
    report is written. The content does not change, so one set per distinct content serves
    every instance, as ``model_construct(_fields_set=...)`` would. The set is never mutated
    in place: pydantic copies it before ``model_copy(update=...)`` adds names, and frozen
    models admit no assignment. The table holds one entry per combination of field names,
    so it stays tiny.
    """
    names = model.__pydantic_fields_set__
    shared = _FIELD_SETS.setdefault(frozenset(names), names)
    if shared is not names:
        object.__setattr__(model, "__pydantic_fields_set__", shared)


def socket_key(socket: Socket) -> str:
    """An identity for a socket that holds across samples (not the pid, not the queues):
    its addresses, and its inode where the listing shows one (``-e``), which tells apart
    the SO_REUSEPORT sockets of one address (one may be full while its twin drains)."""
    key = address_key(socket)
    return key if socket.inode is None else f"{key} ino:{socket.inode}"


def address_key(socket: Socket) -> str:
    """:func:`socket_key` without the inode: what survives a restart of the service (a new
    socket, a new inode), and how reports before the inode keyed their history."""
    peer_port = socket.peer_port if socket.peer_port is not None else "*"
    return f"{socket.proto.value} {socket.endpoint} {socket.peer_address or '*'}:{peer_port}"


class LineError(BaseModel):
    """A line of command output that could not be parsed (the other lines still were)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    line: int
    text: str
    reason: str

    @classmethod
    def from_raw(cls, raw: RawLineError) -> LineError:
        """The model of a parser's record of the line."""
        return cls(line=raw.line, text=raw.text, reason=raw.reason)


PRIVILEGE_FIX = "; to name them, "
"""Joins a privilege note's reason and the fix that fits the host's setup (a sudoers line,
``!requiretty``, become), which the note carries since only the collection knew them."""


def split_privilege_note(note: str) -> tuple[str, str | None]:
    """A privilege note's reason, and its fix as a sentence (None when it has none)."""
    why, found, fix = note.partition(PRIVILEGE_FIX)
    return why, (fix[:1].upper() + fix[1:] if found and fix else None)


CAPTURE_NOTE = (
    "a saved capture, judged as taken without root since --privileged was not given; owners "
    f"of other users' sockets unknown{PRIVILEGE_FIX}take the capture as root "
    "(`sudo ss -tuanpe`), or pass --privileged if it was"
)
"""The ``privilege_note`` of a saved capture judged without ``--privileged``: its fix is
about how the capture was taken, not sudo rights of an audit user (no login, no become)."""


class HostSnapshot(BaseModel):
    """One host's sockets, or why they could not be read.

    ``groups`` and ``labels`` are copied from the inventory so that the policy engine can
    judge a snapshot without seeing the inventory.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    host: str
    address: str
    groups: tuple[str, ...] = ()
    labels: dict[str, str] = Field(default_factory=dict)
    status: HostStatus
    error: str | None = None
    collected_at: datetime | None = None
    tool: Tool | None = None
    privilege: Privilege | None = None
    privilege_note: str | None = None
    """Why the host was audited without privilege, when it was (e.g. sudo refused)."""
    host_key_checked: bool | None = True
    """Whether the listing came over SSH from a host whose key was verified: False when the
    run skipped host-key verification for this host; None when no SSH was involved (a saved
    capture judged by ``fleetaudit check``, a ``transport: local`` host), where there was no
    key to verify. Reports saved
    before None existed say True for captures too."""
    sockets: tuple[Socket, ...] = ()
    """The sockets of the last sample."""
    parse_errors: tuple[LineError, ...] = ()
    duration_s: float | None = None
    samples: int = 1
    """How many listings were taken (``--samples``); the rules on queues judge them all."""
    queue_history: dict[str, tuple[QueuePair | None, ...]] = Field(default_factory=dict)
    """For the sockets whose queue is not empty in the last sample: (Recv-Q, Send-Q) in each
    earlier sample, oldest first. Keyed by :func:`socket_key` where the listing shows
    inodes (None: the socket was absent), and by :func:`address_key`, the fullest socket of
    the address (None: none there had a queue). Reports written before the inode keys have
    address keys only."""
    listen_overflows: int | None = None
    """Increase of the kernel's TcpExt ListenOverflows counter over the samples."""
    listen_drops: int | None = None
    """Increase of TcpExt ListenDrops over the samples."""
    ephemeral_ports: tuple[Port, Port] | None = None
    """The host's ``ip_local_port_range`` (lowest, highest), where the kernel picks the port
    of a socket that binds none; None when not read (a saved capture, an older report)."""

    rules_judged: tuple[str, ...] | None = None
    """The ids of the policy's rules that applied to the host (their ``select:`` chose it),
    so that a report (JUnit) does not show a rule as passed where it never looked, a merged
    one included; None when not known (a report of an older release, the history)."""

    hidden_processes: int = 0
    """On a host without ss whose ``/proc`` hides other users' processes from the login
    user (mounted with ``hidepid``), while netstat ran as root through sudo: how many of
    its listeners' processes had a comm the collection script could not read. netstat's
    piece of their command line cannot be trusted as their name, so their sockets count as
    owner unknown (judged by port, reported by the coverage rule)."""

    audit_connection: tuple[Port, Port] | None = None
    """This audit's own SSH connection, (server port, client port), as the host's SSH
    server reported it: a whole listing holds it, so a listing without it was cut or forged.
    Set only where that holds: an OpenSSH or Dropbear server (the connection is a socket in
    the session's network namespace), not one that keeps it in user space (Tailscale SSH);
    None for saved captures, local hosts and reports written before it existed."""

    _listeners: tuple[Socket, ...] = PrivateAttr(default=())

    @field_validator("ephemeral_ports")
    @classmethod
    def _lowest_first(cls, ports: tuple[int, int] | None) -> tuple[int, int] | None:
        """A range the kernel accepts: a report edited by hand must not carry another."""
        if ports is not None and ports[0] > ports[1]:
            raise ValueError(f"the lowest port comes first (got {ports[0]}, {ports[1]})")
        return ports

    def model_post_init(self, context: Any, /) -> None:
        """Share this snapshot's field-name set (see :func:`share_fields_set`; its sockets
        are slotted and have none) and pick its listeners once: every rule asks for them,
        and a busy host has hundreds of thousands of connections. Runs once per new
        snapshot, not when a RunResult takes it in."""
        share_fields_set(self)
        self._listeners = _listeners_of(self.sockets)

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Self:
        """pydantic's copy, with the listeners picked again: a copy given other sockets must
        not keep the listeners of the original (rules would judge sockets it no longer has)."""
        copied = super().model_copy(update=update, deep=deep)
        copied._listeners = _listeners_of(copied.sockets)
        return copied

    def queues_over_samples(self, socket: Socket) -> tuple[QueuePair, ...]:
        """``socket``'s (Recv-Q, Send-Q) in every sample, oldest first, the last one its own;
        (0, 0) where it was absent or empty."""
        if self.samples == 1:  # the common case, without a key per socket
            return ((socket.recv_q, socket.send_q),)
        width = self.samples - 1
        history, absent = self.queue_history, (None,) * width
        # its own queues where it was there, else its address's: a service restarted
        # between samples (one that stopped accepting, say) has a new inode, but the same
        # full queue; reports written before the inode was in the key have only these
        own = history.get(socket_key(socket)) if socket.inode is not None else None
        by_address = history.get(address_key(socket)) or absent
        # strict=False: in a report edited by hand, as far as both go
        pairs = zip(own or absent, by_address, strict=False)
        earlier = [mine or theirs for mine, theirs in pairs]
        padded = tuple(pair or (0, 0) for pair in earlier)
        return (*padded, (socket.recv_q, socket.send_q))

    @property
    def listeners(self) -> tuple[Socket, ...]:
        """Sockets that accept traffic from others: TCP LISTEN and unconnected UDP."""
        return self._listeners

    @property
    def listing_incomplete(self) -> bool:
        """Whether the listing may lack sockets the host has: lines it could not read,
        sockets but no listener (taken without ``-a``), or without this audit's own
        connection (cut short or altered). What it does not show is not gone."""
        return bool(self.parse_errors) or self.lacks_listeners or self.lacks_own_connection

    @property
    def lacks_listeners(self) -> bool:
        """Sockets, but not one listening: a live host always has one (sshd)."""
        return bool(self.sockets) and not self._listeners

    @property
    def lacks_own_connection(self) -> bool:
        """The host's SSH server reported this audit's connection, and the listing does
        not hold it (see ``audit_connection``)."""
        if self.audit_connection is None:
            return False
        server, client = self.audit_connection
        return not any(
            s.local_port == server and s.peer_port == client and s.proto is Proto.TCP
            for s in self.sockets
        )


def _listeners_of(sockets: tuple[Socket, ...]) -> tuple[Socket, ...]:
    return tuple(s for s in sockets if s.is_listener)
