"""A simulated SSH host: a real asyncssh server on loopback that answers from a responder.

It speaks real SSH (key exchange, its own host key, public-key login for one user), so the
client side runs exactly the code a production run does. ``behaviour`` makes it misbehave
in the ways real hosts do, for the fault tests.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from enum import Enum
from types import TracebackType

import asyncssh

from fleetaudit.lab.keys import generate_key, known_hosts_entry, public_key_line
from fleetaudit.transport.ssh import LOGIN_SHELL_COMMAND

Responder = Callable[[str], tuple[int, str, str]]
_DRIP_DELAY_S = 0.01
_DRIP_MAX_LINES = 2000


class Behaviour(Enum):
    """How the simulated host treats a command."""

    NORMAL = "normal"
    HANG = "hang"
    """Accepts the command and never answers (until the client gives up)."""
    DISCONNECT_MID_OUTPUT = "disconnect-mid-output"
    """Sends half of the output, then drops the connection."""
    DRIP = "drip"
    """Sends the output one line at a time, slowly."""


class SimulatedHost:
    """An asyncssh server on ``address``; use as an async context manager."""

    def __init__(
        self,
        responder: Responder,
        *,
        authorized_keys: Sequence[asyncssh.SSHKey],
        user: str = "audit",
        address: str = "127.0.0.1",
        port: int = 0,
        host_key: asyncssh.SSHKey | None = None,
        behaviour: Behaviour = Behaviour.NORMAL,
    ) -> None:
        self.address = address
        self.port = port
        self.host_key = host_key or generate_key()
        self.user = user
        self.behaviour = behaviour
        self._responder = responder
        self._authorized = asyncssh.import_authorized_keys(
            "".join(public_key_line(key) + "\n" for key in authorized_keys)
        )
        self._server: asyncssh.SSHAcceptor | None = None

    def known_hosts_entry(self) -> str:
        """The known_hosts line a client needs to trust this host."""
        return known_hosts_entry(self.address, self.port, self.host_key)

    async def start(self) -> None:
        """Listen; ``port`` is the bound port afterwards."""
        self._server = await asyncssh.create_server(
            lambda: _Gate(self.user, self._authorized),
            self.address,
            self.port,
            server_host_keys=[self.host_key],
            process_factory=self._serve,
        )
        self.port = self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        """Stop listening and drop every connection."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def __aenter__(self) -> SimulatedHost:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def _serve(self, process: asyncssh.SSHServerProcess[str]) -> None:
        command = process.command or ""
        if command == LOGIN_SHELL_COMMAND:  # the script comes on stdin, as /bin/sh reads it
            command = await process.stdin.read()
        status, stdout, stderr = self._responder(command)
        if self.behaviour is Behaviour.HANG:
            await process.wait_closed()
            return
        if self.behaviour is Behaviour.DISCONNECT_MID_OUTPUT:
            process.stdout.write(stdout[: len(stdout) // 2])
            await asyncio.sleep(0.05)
            process.channel.get_connection().abort()
            return
        if self.behaviour is Behaviour.DRIP:
            for line in stdout.splitlines(keepends=True)[:_DRIP_MAX_LINES]:
                process.stdout.write(line)
                await asyncio.sleep(_DRIP_DELAY_S)
        else:
            process.stdout.write(stdout)
        process.stderr.write(stderr)
        process.exit(status)


class _Gate(asyncssh.SSHServer):
    """Public-key login for exactly one user; every other name is refused."""

    def __init__(self, user: str, authorized: asyncssh.SSHAuthorizedKeys) -> None:
        self._user = user
        self._authorized = authorized
        self._connection: asyncssh.SSHServerConnection | None = None

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self._connection = conn

    def begin_auth(self, username: str) -> bool:
        if username == self._user and self._connection is not None:
            self._connection.set_authorized_keys(self._authorized)
        return True

    def password_auth_supported(self) -> bool:
        return False

    def kbdint_auth_supported(self) -> bool:
        return False
