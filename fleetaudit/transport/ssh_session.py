"""One host's SSH connection once logged in: run the collection script, read its output.

Everything here happens after the host was reached, so a failure here (the listing timed
out, the connection dropped) is ``command_failed``, never an excusable ``timeout`` or
``connection_lost``: see ``_NOT_REACHED`` in :mod:`fleetaudit.model.enums`.
"""

from __future__ import annotations

import asyncio

import asyncssh

from fleetaudit.errors import TransportError
from fleetaudit.model.enums import HostStatus
from fleetaudit.transport.errors import translate
from fleetaudit.transport.interface import CommandResult, Session
from fleetaudit.transport.streams import ByteCount, read_capped, read_tail

STDERR_CAP = 64 * 1024
"""stderr kept per command (its tail); more is read and discarded."""

LOGIN_SHELL_COMMAND = "exec /bin/sh"
"""The command line sent to every host; the script follows on its stdin. sshd hands the
command line to the login user's shell, which may be fish or csh: a multi-line sh script as
the command line runs only under an sh, but every shell can start ``/bin/sh``, which then
reads the script (still one of the catalogue's constants) from stdin."""


class SshSession(Session):
    """One host's connection. A command that did not end normally (timed out, cancelled by
    the host deadline or a signal, output over the cap) leaves the connection aborted, not
    closed politely: sshd holds a session channel open until the remote command exits, so
    waiting for it would make every timeout as long as the remote command."""

    def __init__(
        self,
        connection: asyncssh.SSHClientConnection,
        where: str,
        cap: int,
    ) -> None:
        self._connection = connection
        self._where = where
        self._cap = cap
        self._abandoned = False
        self._received = ByteCount()
        self.server_software = _software(connection.get_extra_info("server_version"))
        self.login_user = connection.get_extra_info("username")

    async def run(self, command: str, *, timeout: float) -> CommandResult:
        try:
            async with asyncio.timeout(timeout):
                return await self._run(command)
        except TimeoutError:
            raise TransportError(
                HostStatus.COMMAND_FAILED,
                f"{self._where}: the listing did not finish within {timeout:g}s "
                f"(--command-timeout) {_how_far(self._received.total)}",
            ) from None
        except Exception as exc:
            raise translate(exc, where=self._where, phase="command") from None

    async def _run(self, command: str) -> CommandResult:
        self._abandoned = True  # until the command has ended normally
        self._received = ByteCount()
        process = await self._connection.create_process(LOGIN_SHELL_COMMAND, encoding=None)
        try:
            # A few KiB, far below the channel window: the write never waits for the reader.
            process.stdin.write(command.encode())
            process.stdin.write_eof()
            result = await self._collect(process, command)
        finally:
            process.close()
        if not result.truncated:  # else the remote side may be blocked on a full window
            await process.wait_closed()  # the command has exited: sshd closes at once
            self._abandoned = False
        return result

    async def _collect(
        self, process: asyncssh.SSHClientProcess[bytes], command: str
    ) -> CommandResult:
        # stderr is drained beside stdout to its end: a remote blocked on a full stderr
        # window would never finish stdout either.
        stderr_task = asyncio.ensure_future(read_tail(process.stderr, STDERR_CAP))
        signal: str | None = None
        try:
            stdout, truncated = await read_capped(process.stdout, self._cap, self._received)
            if truncated:
                stderr, exit_status = b"", None
            else:
                stderr, _ = await stderr_task
                completed = await process.wait(check=False)
                exit_status = completed.exit_status
                if completed.exit_signal is not None:
                    signal, exit_status = completed.exit_signal[0], None
        finally:
            stderr_task.cancel()
        return CommandResult(
            command=command,
            exit_status=exit_status,
            stdout=stdout.decode("utf-8", errors="replace"),
            stderr=stderr.decode("utf-8", errors="replace"),
            truncated=truncated,
            exit_signal=signal,
        )

    async def close(self) -> None:
        if self._abandoned:
            self._connection.abort()  # no goodbye: the peer may never read it
        else:
            self._connection.close()
        await self._connection.wait_closed()


def _how_far(received: int) -> str:
    """What the bytes received before a listing timed out say about the cause."""
    if not received:
        return (
            "and had sent nothing: the command hung (a stuck ss or netstat), or the link "
            "stopped passing data"
        )
    return (
        f"after sending {received:,} bytes: a slow or lossy link, or a listing too large "
        "for the timeout (raise --command-timeout), or a command that hung midway"
    )


def _software(banner: object) -> str | None:
    """The software token of an SSH banner: ``OpenSSH_9.2p1`` of ``SSH-2.0-OpenSSH_9.2p1
    Debian-2+deb12u3``; None when the banner has no such shape."""
    protocol, _, rest = str(banner or "").partition("-")
    version, _, software = rest.partition("-")
    if protocol != "SSH" or not version or not software:
        return None
    return software.split(" ", 1)[0] or None
