"""The one place where asyncssh and OSError exceptions become per-host statuses.

Everything the SSH transport awaits is wrapped by :func:`translate`; nothing above the
transport stage ever sees an asyncssh or socket exception.
"""

from __future__ import annotations

import errno
import os
import socket

import asyncssh

from fleetaudit.errors import TransportError
from fleetaudit.model.enums import HostStatus

_UNREACHABLE_ERRNOS = frozenset(
    {errno.ECONNREFUSED, errno.EHOSTUNREACH, errno.ENETUNREACH, errno.ECONNRESET}
)


def connect_timeout(
    where: str,
    seconds: float,
    connection: asyncssh.SSHClientConnection | None,
    looking_up: str | None = None,
    proxy: str | None = None,
) -> TransportError:
    """The timeout of a connection attempt, saying how far it got, because each stage
    points at a different fault: a name whose lookup never answered (``looking_up``: the
    resolver, not the host), no TCP answer (host down, packets dropped), a port that
    accepts but sends no SSH banner (a hung sshd, or another program on the port), or an
    SSH server that never finished the login (overloaded, or slow lookups on its side).
    ``proxy``: the program of ssh_config's ProxyCommand, which stands for the TCP
    connection (no banner through it: the command hung, QA)."""
    after = f"within {seconds:g}s (--connect-timeout)"
    if (
        proxy is not None
        and connection is not None
        and not connection.get_extra_info("server_version")
    ):
        what = (
            f"{where}: no SSH banner came through ssh_config's ProxyCommand ({proxy}) "
            f"{after}: the command hung, or what it reached is not sshd"
        )
    elif looking_up is not None:
        what = (
            f"connect to {where} timed out: looking up {looking_up!r} had no answer {after}, "
            "so nothing was sent to the host: the resolver (the DNS servers in "
            "/etc/resolv.conf) is not answering"
        )
    elif connection is None:
        what = (
            f"connect to {where} timed out: no answer {after}; the host is down or a "
            "firewall drops the packets"
        )
        if " via " in where:
            what += ", or the link to the jump host is down or saturated"
    elif not connection.get_extra_info("server_version"):
        what = (
            f"{where} accepted the TCP connection but sent no SSH banner {after}: a hung sshd, "
            "or a program other than sshd on that port"
        )
        if " via " in where:
            what += ", or the link to the jump host stopped passing data"
    else:
        banner = str(connection.get_extra_info("server_version"))[:80]
        link = "the link to the jump host or to the host" if " via " in where else "the link"
        what = (
            f"{where} ({banner}) did not finish the SSH login {after}: an overloaded sshd, "
            f"slow lookups on its side (UseDNS, GSSAPI), or {link} slow or losing packets "
            "(raise --connect-timeout)"
        )
    return TransportError(HostStatus.TIMEOUT, what)


def after_banner(
    error: TransportError, connection: asyncssh.SSHClientConnection | None
) -> TransportError:
    """``error`` of a connection attempt, unless the server had sent its SSH banner and
    then dropped the connection: the host was reached and the SSH negotiation failed (no
    key exchange, cipher or host key algorithm in common, which sshd answers by closing
    the connection), or the server refused this client. That is ``ssh_error``, not an
    outage: --allow-unreachable must not excuse it."""
    banner = connection.get_extra_info("server_version") if connection is not None else None
    if not banner or error.status not in _DROPPED:
        return error
    return TransportError(
        HostStatus.SSH_ERROR,
        f"{error.message}, after the server answered ({str(banner)[:80]}): the SSH "
        "negotiation failed (no key exchange, cipher or host key algorithm in common? see "
        "ssh_config's KexAlgorithms, Ciphers and HostKeyAlgorithms) or the server refused "
        "this client (a reset sent by a network device in between reads the same)",
    )


_DROPPED = frozenset({HostStatus.UNREACHABLE, HostStatus.CONNECTION_LOST})


def translate(exc: BaseException, *, where: str, phase: str) -> TransportError:
    """A :class:`TransportError` for ``exc`` raised while ``phase`` ("connect", "command")
    ran against ``where`` (``user@address:port``). Unknown exception types become
    ``ssh_error`` with their text, never a crash.

    In the "command" phase the host was reached: a failure that would read as "not
    reached" (timeout, connection lost or reset) becomes ``command_failed``, which
    --allow-unreachable does not excuse; else a host could stay out of the audit by
    stalling or dropping its listing (see ``_NOT_REACHED``)."""
    error = _translate(exc, where, phase)
    if phase == "command" and error.status.unreachable:
        return TransportError(HostStatus.COMMAND_FAILED, error.message)
    return error


def _translate(exc: BaseException, where: str, phase: str) -> TransportError:
    if isinstance(exc, TransportError):
        return exc
    # asyncssh.TimeoutError is also an asyncssh.Error: test it before the generic cases.
    if isinstance(exc, asyncssh.TimeoutError | TimeoutError):
        return TransportError(HostStatus.TIMEOUT, f"{phase} to {where} timed out")
    if isinstance(exc, asyncssh.PermissionDenied):
        return TransportError(
            HostStatus.AUTH_FAILED,
            f"{where}: public-key authentication refused (check user and key; "
            "fleetaudit never uses passwords)",
        )
    if isinstance(exc, asyncssh.HostKeyNotVerifiable):
        if "revoked" in exc.reason.lower():
            # refused under every policy and never learnt, like a changed key
            return TransportError(
                HostStatus.HOST_KEY_CHANGED,
                f"{where}: HOST KEY REVOKED: known_hosts marks the key (or CA) the server "
                f"offered @revoked ({exc.reason})",
            )
        return TransportError(HostStatus.HOST_KEY_UNKNOWN, f"{where}: {exc.reason}")
    if isinstance(exc, asyncssh.ConnectionLost):
        if "timeout" in exc.reason.lower():
            return TransportError(
                HostStatus.TIMEOUT, f"{where}: the SSH login did not finish in time ({exc.reason})"
            )
        during = "while the listing ran" if phase == "command" else f"during {phase}"
        return TransportError(
            HostStatus.CONNECTION_LOST, f"{where}: connection lost {during}: {exc.reason}"
        )
    if isinstance(exc, asyncssh.KeyImportError | asyncssh.KeyEncryptionError):
        return TransportError(HostStatus.AUTH_FAILED, f"{where}: unusable private key: {exc}")
    if isinstance(exc, asyncssh.ChannelOpenError):
        return _channel_refused(exc, where, phase)
    if isinstance(exc, asyncssh.DisconnectError):
        return TransportError(HostStatus.SSH_ERROR, f"{where}: {phase} failed: {exc.reason}")
    if isinstance(exc, RecursionError):
        # asyncssh follows a ProxyJump that the ssh_config also gives the jump host itself
        return TransportError(
            HostStatus.SSH_ERROR,
            f"{where}: ssh_config sends the jump host through itself (ProxyJump in a "
            "'Host *' entry?): exclude the jump host from that entry ('Host * !bastion')",
        )
    if isinstance(exc, UnicodeDecodeError):
        return TransportError(
            HostStatus.SSH_ERROR, f"{where}: ~/.ssh/config (or a file it includes) is not UTF-8"
        )
    if isinstance(exc, socket.gaierror):
        return TransportError(HostStatus.UNRESOLVABLE, f"{where}: name does not resolve")
    if isinstance(exc, OSError):
        return _os_error(exc, where, phase)
    return TransportError(HostStatus.SSH_ERROR, f"{where}: {type(exc).__name__}: {exc}")


def _channel_refused(exc: asyncssh.ChannelOpenError, where: str, phase: str) -> TransportError:
    """A channel the server would not open. While connecting, the only channel is the jump
    host's forward to the target: an outage behind it when the jump host could not connect,
    else the jump host's refusal to forward (``ssh_error``: no outage to excuse). Later, the
    target's session for the listing."""
    if exc.code == asyncssh.OPEN_CONNECT_FAILED and exc.reason == _CLOSED_UNDER_IT:
        # asyncssh's own words: the connection the channel was to open on had closed
        through = (
            " (it went through the jump host: the connection to it, or its link, went down)"
            if " via " in where
            else ""
        )
        during = "while the listing ran" if phase == "command" else f"during {phase}"
        return TransportError(
            HostStatus.CONNECTION_LOST, f"{where}: connection lost {during}{through}"
        )
    if exc.code == asyncssh.OPEN_CONNECT_FAILED:
        return _behind_jump(exc.reason, where)
    if phase == "connect":
        return TransportError(
            HostStatus.SSH_ERROR,
            f"{where}: the jump host refused to forward a connection to it ({exc.reason}): "
            "its sshd_config (AllowTcpForwarding, PermitOpen, DisableForwarding) or the "
            "options of the key in its authorized_keys (restrict, permitopen) forbid it",
        )
    return TransportError(
        HostStatus.SSH_ERROR,
        f"{where}: the server refused to open a session for the listing ({exc.reason}; "
        "MaxSessions, or a login shell that refuses commands?)",
    )


_CLOSED_UNDER_IT = "SSH connection closed"
"""asyncssh's reason for a channel whose connection closed while it was being opened."""


def _behind_jump(reason: str, where: str) -> TransportError:
    """The jump host could not connect to the target: an outage behind it, as the same
    failure would be without the jump host (a refused port, no route, a name that does not
    resolve), not an SSH error, which --allow-unreachable would not excuse."""
    lowered = reason.lower()
    resolves = "name resolution" in lowered or "not known" in lowered
    status = HostStatus.UNRESOLVABLE if resolves else HostStatus.UNREACHABLE
    return TransportError(status, f"{where}: the jump host could not connect to it: {reason}")


def proxy_failed(where: str, program: str, exc: OSError) -> TransportError:
    """ssh_config's ProxyCommand could not be started (``program``: its first word)."""
    return TransportError(
        HostStatus.SSH_ERROR,
        f"{where}: cannot run {program} (ssh_config's ProxyCommand): {exc.strerror}",
    )


def _os_error(exc: OSError, where: str, phase: str) -> TransportError:
    if exc.errno in _UNREACHABLE_ERRNOS or isinstance(exc, ConnectionError):
        # asyncio's strerror ("Connect call failed ('10.0.0.1', 22)") repeats the address.
        reason = os.strerror(exc.errno) if exc.errno else str(exc)
        during = " while the listing ran" if phase == "command" else ""
        return TransportError(HostStatus.UNREACHABLE, f"{where}: {reason.lower()}{during}")
    if exc.filename is not None and "/" not in str(exc.filename):
        # A bare name is a program looked up in PATH (keys and known_hosts are paths, made
        # absolute): ssh_config's ProxyCommand, whose program is not installed.
        return proxy_failed(where, str(exc.filename), exc)
    if exc.filename is not None:
        # A local file (private key, known_hosts) could not be read.
        return TransportError(
            HostStatus.AUTH_FAILED, f"{where}: cannot read {exc.filename}: {exc.strerror}"
        )
    return TransportError(HostStatus.UNREACHABLE, f"{where}: {phase} failed: {exc.strerror or exc}")
