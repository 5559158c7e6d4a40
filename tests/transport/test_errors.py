"""The single exception-to-status mapping, for exceptions a loopback test cannot provoke
without sending traffic elsewhere (DNS)."""

from __future__ import annotations

import errno
import socket

import asyncssh

from fleetaudit.model.enums import HostStatus
from fleetaudit.transport.errors import connect_timeout, translate


def status(exc: BaseException) -> HostStatus:
    return translate(exc, where="u@h:22", phase="connect").status


def test_mapping() -> None:
    assert status(socket.gaierror(socket.EAI_NONAME, "Name or service not known")) is (
        HostStatus.UNRESOLVABLE
    )
    assert status(OSError(errno.EHOSTUNREACH, "No route to host")) is HostStatus.UNREACHABLE
    assert status(ConnectionRefusedError(errno.ECONNREFUSED, "x")) is HostStatus.UNREACHABLE
    assert status(TimeoutError()) is HostStatus.TIMEOUT
    assert status(asyncssh.ConnectionLost("Login timeout expired")) is HostStatus.TIMEOUT
    assert status(asyncssh.ConnectionLost("Connection reset")) is HostStatus.CONNECTION_LOST
    assert status(asyncssh.PermissionDenied("no")) is HostStatus.AUTH_FAILED
    assert status(asyncssh.ProtocolError("bad")) is HostStatus.SSH_ERROR
    assert status(RuntimeError("surprise")) is HostStatus.SSH_ERROR


def test_refused_message_names_the_reason_once() -> None:
    error = translate(
        ConnectionRefusedError(errno.ECONNREFUSED, "Connect call failed ('h', 22)"),
        where="u@h:22",
        phase="connect",
    )
    assert error.message == "u@h:22: connection refused"


def test_what_reads_as_not_reached_is_a_failed_listing_once_the_command_ran() -> None:
    """Connect-time timeouts and losses stay excusable; the same during the listing is
    ``command_failed``: the host was reached, and could stall or drop on purpose."""
    for exc in (
        TimeoutError(),
        asyncssh.ConnectionLost("Connection reset"),
        ConnectionResetError(errno.ECONNRESET, "reset"),
    ):
        connect = translate(exc, where="u@h:22", phase="connect")
        command = translate(exc, where="u@h:22", phase="command")
        assert connect.status.unreachable, exc
        assert command.status is HostStatus.COMMAND_FAILED, exc
    lost = translate(asyncssh.ConnectionLost("reset"), where="u@h:22", phase="command")
    assert lost.message == "u@h:22: connection lost while the listing ran: reset"
    refused = translate(asyncssh.PermissionDenied("no"), where="u@h:22", phase="command")
    assert refused.status is HostStatus.AUTH_FAILED
    reset = translate(ConnectionResetError(errno.ECONNRESET, "x"), where="u@h:22", phase="command")
    assert reset.message == "u@h:22: connection reset by peer while the listing ran"


def test_a_timeout_behind_a_jump_host_names_the_link_to_it() -> None:
    """A jump host's link that failed or saturated left every target behind it blaming
    itself ("the host is down", "an overloaded sshd"), and the operator went to the wrong
    machine (QA, with a bastion's link shaped or cut)."""
    via = "u@t1:22 via u@bastion:22"
    silent = connect_timeout(via, 10, None)
    assert "or the link to the jump host is down or saturated" in silent.message
    direct = connect_timeout("u@t1:22", 10, None)
    assert "jump host" not in direct.message


def test_a_channel_whose_connection_closed_under_it_is_a_lost_connection() -> None:
    """QA: the jump host's sshd killed mid-run; the hosts behind it, between samples, read
    "the jump host could not connect to it: SSH connection closed", which blamed the jump
    host for a target it had reached. asyncssh's reason means the connection closed."""
    closed = asyncssh.ChannelOpenError(asyncssh.OPEN_CONNECT_FAILED, "SSH connection closed")
    where = "u@t1:22 via u@bastion:22"
    during = translate(closed, where=where, phase="command")
    assert during.status is HostStatus.COMMAND_FAILED
    assert during.message.startswith(f"{where}: connection lost while the listing ran")
    assert "the connection to it, or its link, went down" in during.message
    before = translate(closed, where=where, phase="connect")
    assert before.status is HostStatus.CONNECTION_LOST
    refused = asyncssh.ChannelOpenError(asyncssh.OPEN_CONNECT_FAILED, "Connection refused")
    assert "could not connect to it" in translate(refused, where=where, phase="connect").message
