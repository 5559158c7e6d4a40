"""Turn one host's capture into a snapshot: parse the tool output, build the models.

This is the glue between the collect, parse and model stages; it is pure (no I/O).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from fleetaudit.collect.reply import Reply
from fleetaudit.collect.runner import HostCapture
from fleetaudit.errors import CaptureError
from fleetaudit.inventory.model import TransportKind
from fleetaudit.model.enums import HostStatus, Privilege, Tool
from fleetaudit.model.host import (
    CAPTURE_NOTE,
    PRIVILEGE_FIX,
    HostSnapshot,
    LineError,
    QueuePair,
    address_key,
    socket_key,
)
from fleetaudit.model.raw import LISTENING, RawSocket
from fleetaudit.model.socket import Socket
from fleetaudit.parse import parse_capture

_SUDOERS_ALIAS = re.compile(r"[A-Z][A-Z0-9_]*")
"""What sudoers reads as an alias name or the keyword ALL, not a user."""


def build_snapshot(capture: HostCapture) -> HostSnapshot:
    """The snapshot of a captured host; a failed capture keeps its status and error."""
    host = capture.host
    base: dict[str, Any] = {
        "host": host.name,
        "address": host.address,
        "groups": host.groups,
        "labels": host.labels,
        "collected_at": capture.started_at,
        "duration_s": capture.duration_s,
        "host_key_checked": capture.host_key_checked,
    }
    reply = capture.reply
    if capture.status is not HostStatus.OK or reply is None:
        return HostSnapshot(status=capture.status, error=capture.error, **base)
    privileged = reply.privilege is Privilege.ROOT
    try:
        _, parsed = parse_capture(
            reply.output,
            tool=reply.tool,
            privileged=privileged,
            wide=reply.wide,
            source=host.name,
        )
    except CaptureError as exc:
        return HostSnapshot(
            status=HostStatus.PARSE_ERROR,
            error=exc.message,
            tool=reply.tool,
            privilege=reply.privilege,
            **base,
        )
    if not parsed.sockets and _over_ssh(capture):
        return HostSnapshot(
            status=HostStatus.PARSE_ERROR,
            error=f"the {reply.tool.value} listing holds no socket, not even this audit's own "
            "SSH connection: its output was empty or cut, so the host was not seen",
            tool=reply.tool,
            privilege=reply.privilege,
            **base,
        )
    named, hidden = _named_by_comm(parsed.sockets, reply)
    sockets = tuple(Socket.from_raw(raw, reply.comms.keys()) for raw in named)
    return HostSnapshot(
        status=HostStatus.OK,
        tool=reply.tool,
        privilege=reply.privilege,
        privilege_note=_privilege_note(capture),
        sockets=sockets,
        parse_errors=tuple(LineError.from_raw(error) for error in parsed.errors),
        samples=1 + len(capture.earlier),
        queue_history=_queue_history(capture, sockets),
        listen_overflows=_increase(capture, "ListenOverflows"),
        listen_drops=_increase(capture, "ListenDrops"),
        ephemeral_ports=reply.ephemeral,
        audit_connection=_audit_connection(capture),
        hidden_processes=hidden,
        **base,
    )


def _named_by_comm(
    sockets: tuple[RawSocket, ...], reply: Reply
) -> tuple[tuple[RawSocket, ...], int]:
    """netstat's sockets with each process named by its comm, as ss names it, where the
    script read one (``@@comm``): netstat prints a piece of the command line, which a
    process that retitles itself rewrites (busybox and toybox print what follows its last
    ``/``: ``alt.conf [listener]`` for an sshd given ``-f /etc/ssh/alt.conf``).

    A process without a comm keeps netstat's name, unless ``/proc`` hides other users'
    processes from the login user (``hidepid``: PID 1, always there, was not read): then
    that name cannot be trusted, and its sockets count as owner unknown (QA: an exposed
    mysqld, printed as ``my.cnf``, got no finding). Also returns how many listeners'
    processes that hid."""
    comms = reply.comms
    if not comms:
        return sockets, 0
    hidden = _INIT_PID not in comms
    renamed = []
    unnamed: set[int | None] = set()
    for raw in sockets:
        if not raw.processes:
            renamed.append(raw)
            continue
        kept = []
        for process in raw.processes:
            if process.pid in comms:
                kept.append(process._replace(name=comms[process.pid]))
            elif hidden:
                if raw.state in LISTENING:  # not the audit's own session, say
                    unnamed.add(process.pid)
            else:  # started after the comms were read: netstat's name is all there is
                kept.append(process)
        owner_known = raw.owner_known and bool(kept)
        renamed.append(raw._replace(processes=tuple(kept), owner_known=owner_known))
    return tuple(renamed), len(unnamed)


_INIT_PID = 1
"""Every PID namespace has one; its comm is missing only when /proc hides it (hidepid)."""


def _queue_history(
    capture: HostCapture, sockets: tuple[Socket, ...]
) -> dict[str, tuple[QueuePair | None, ...]]:
    """The earlier samples' queues of the sockets whose queue is not empty in the last one
    (the rules on queues flag only what persists through every sample): each socket by its
    inode where the listing shows one, (0, 0) when it was there and empty, None when absent;
    and each address by its fullest socket, for a socket whose inode changed between
    samples (a restart) and for twins the listing cannot tell apart."""
    busy = {address_key(s) for s in sockets if s.recv_q or s.send_q}
    if not capture.earlier or not busy:
        return {}
    # ports, not addresses, to pick the raw sockets worth a model: numbers read the same in
    # both, and the peer's port leaves out the thousands of connections to a busy listener
    ports = {(s.proto, s.local_port, s.peer_port) for s in sockets if address_key(s) in busy}
    history: dict[str, list[QueuePair | None]] = {}
    width = len(capture.earlier)
    for index, parsed in enumerate(_earlier_samples(capture)):
        for raw in parsed:
            if (raw.proto, raw.local_port, raw.peer_port) not in ports:
                continue  # cheap: most sockets of a busy host are not the ones in question
            socket = Socket.from_raw(raw)
            address, pair = address_key(socket), (raw.recv_q, raw.send_q)
            if address not in busy:
                continue
            if socket.inode is not None:
                history.setdefault(socket_key(socket), [None] * width)[index] = pair
            if pair != (0, 0):
                slot = history.setdefault(address, [None] * width)
                slot[index] = max(slot[index] or (0, 0), pair)
    return {key: tuple(pairs) for key, pairs in history.items()}


def _earlier_samples(capture: HostCapture) -> Iterator[tuple[RawSocket, ...]]:
    """The sockets of each earlier sample; none for a sample without data, which counts as
    "absent": nothing persists through it."""
    for reply in capture.earlier:
        try:
            _, parsed = parse_capture(
                reply.output,
                tool=reply.tool,
                privileged=reply.privilege is Privilege.ROOT,
                wide=reply.wide,
                source=capture.host.name,
            )
        except CaptureError:
            yield ()
        else:
            yield parsed.sockets


def _increase(capture: HostCapture, counter: str) -> int | None:
    """How much a kernel counter grew from the first sample to the last."""
    if not capture.earlier or capture.reply is None:
        return None
    first, last = capture.earlier[0].counters.get(counter), capture.reply.counters.get(counter)
    if first is None or last is None:
        return None
    return max(0, last - first)


def _privilege_note(capture: HostCapture) -> str | None:
    """Why the host's listing was taken without privilege, in the terms of how it was taken
    (the tool, sudo's refusal, become, or for a saved capture the missing --privileged), and
    after ``PRIVILEGE_FIX`` the change to this host's setup that would give root."""
    reply = capture.reply
    if reply is None or reply.privilege is Privilege.ROOT:
        return None
    if reply.tool is Tool.PROC:
        return "neither ss nor netstat on the host: /proc/net names no processes"
    if not reply.names_processes:  # sudo would not help: say what would
        return (
            f"the host's {reply.tool.value} cannot name processes even as root (built "
            f"without -p){PRIVILEGE_FIX}install ss (iproute2) on the host"
        )
    if _replayed(capture):
        return CAPTURE_NOTE  # its become and sudo are the replay's, not the operator's
    unknown = "owners of other users' sockets unknown"
    user = capture.host.user or capture.login_user
    if reply.sudo_refused is not None:
        refusal = reply.sudo_refused.strip()
        fix = _sudo_fix(user, refusal, reply)
        return f"sudo -n refused ({refusal}); {unknown}{PRIVILEGE_FIX}{fix}"
    if capture.host.become:
        return f"no privilege; {unknown}{PRIVILEGE_FIX}{_sudoers_line(user, reply)}"
    return (
        f"become is off and the login user is not root; {unknown}{PRIVILEGE_FIX}set "
        f"become: true and {_sudoers_line(user, reply)}"
    )


_LISTING_COMMANDS = {Tool.SS: "ss -tuanpe", Tool.NETSTAT: "netstat -tuanpeW"}
"""The script's command lines, for a reply that does not say which it ran (a recording)."""


def _sudo_fix(user: str | None, refusal: str, reply: Reply) -> str:
    """The sudoers change that answers this refusal: sudo that wants a terminal needs
    ``!requiretty`` (a sudoers line for the command would not help), anything else a rule
    letting the login user run the exact listing command as root without a password."""
    if "tty" not in refusal:
        return _sudoers_line(user, reply)
    if reply.refused_at_run and reply.sudo_command:
        # sudo -l allowed it: requiretty is set for the command, and a command's Defaults
        # outrank a user's, so only the command's own !requiretty undoes it
        tool = reply.sudo_command.split()[0]
        return (
            f"add `Defaults!{tool} !requiretty` to sudoers after the line that sets "
            "requiretty for it (a Defaults:USER line would not outrank it)"
        )
    if user is None:
        return "add `Defaults:USER !requiretty` to sudoers, USER being the audit user"
    return f"add `Defaults:{_sudoers_user(user)} !requiretty` to sudoers"


def _sudoers_user(user: str) -> str:
    """``user`` as sudoers must read it: a name in capitals (``ALL``, ``AUDIT``) unquoted
    is a keyword or an alias there, and ``ALL ALL=...`` would give every user the line."""
    return f'"{user}"' if _SUDOERS_ALIAS.fullmatch(user) else user


def _sudoers_line(user: str | None, reply: Reply) -> str:
    """The least-privilege sudoers line for the command the script ran (or asked sudo to
    run, with its full path), for the login user when the inventory names it."""
    who, tool = _sudoers_user(user) if user else "USER", reply.tool.value
    command = reply.sudo_command or reply.command or _LISTING_COMMANDS.get(reply.tool, tool)
    line = f"add the sudoers line `{who} ALL=(root) NOPASSWD: {command}`"
    if reply.sudo_command is None:  # without become the script does not look up the path
        line += f" with {tool} as its full path (`command -v {tool}`)"
    return line if user else f"{line}, USER being the audit user"


def _over_ssh(capture: HostCapture) -> bool:
    """True when the listing came over SSH (``host_key_checked`` is None only without SSH):
    then the host has at least one socket, the audit's own connection, and a listing with
    none is not an empty host but a listing that failed. (A local host in an empty network
    namespace, or a saved capture, may hold none: check refuses such captures itself.)"""
    return capture.host_key_checked is not None


_KERNEL_SOCKET_SERVERS = ("OpenSSH_", "dropbear")
"""SSH servers whose connections are kernel sockets of the network namespace their sessions
run in, so the listing shows them (Tailscale SSH, say, keeps its connections in user space)."""


def _audit_connection(capture: HostCapture) -> tuple[int, int] | None:
    """The ports of this audit's own connection, where the listing must show it."""
    software = capture.server_software or ""
    if capture.reply is None or not _over_ssh(capture):
        return None
    if not software.startswith(_KERNEL_SOCKET_SERVERS):
        return None
    return capture.reply.ssh_connection


def _replayed(capture: HostCapture) -> bool:
    """True for a saved capture (``fleetaudit check``, ``policy explain``): an SSH host whose
    listing came without any SSH connection, which only the replay transport does (a
    ``transport: local`` host has no SSH either, but is a live host with a real login)."""
    return capture.host_key_checked is None and capture.host.transport is TransportKind.SSH
