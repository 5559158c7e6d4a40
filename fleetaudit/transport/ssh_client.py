"""asyncssh's client object for one connection, and the key and error helpers around it.

The client object is what asyncssh calls back during a connection: here it asks the
host-key book about keys known_hosts does not trust, and keeps how far the connection got
and why it closed, for the messages of :mod:`.ssh`.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable
from pathlib import Path

import asyncssh

from fleetaudit.errors import TransportError
from fleetaudit.model.enums import HostStatus
from fleetaudit.transport.errors import translate
from fleetaudit.transport.hostkeys import HostKeyBook
from fleetaudit.transport.silence import SilenceLimit


def read_key(path: Path) -> asyncssh.SSHKey | None:
    """The private key in ``path``; None when it is encrypted and an ssh-agent may hold it."""
    try:
        return asyncssh.read_private_key(path)
    except asyncssh.KeyImportError as exc:
        if "passphrase" not in str(exc).lower():
            raise
        if os.environ.get("SSH_AUTH_SOCK"):
            return None
        raise asyncssh.KeyImportError(
            f"{path} is encrypted and no ssh-agent is running; load it with ssh-add "
            "(fleetaudit never prompts for passphrases)"
        ) from None


class Client(asyncssh.SSHClient):
    """Asks the host-key book about keys known_hosts does not already trust, under the
    name and port (``key_name``) the host's keys are listed under."""

    def __init__(self, book: HostKeyBook | None, key_name: tuple[str, int | None]) -> None:
        self._book = book
        self.key_name = key_name
        self.refusal: HostStatus | None = None
        self.offered: asyncssh.SSHKey | None = None
        """The key the server offered, for the refusal message's fingerprint."""
        self.connection: asyncssh.SSHClientConnection | None = None
        """Set once TCP (or the jump tunnel) is connected: how far a timed-out attempt got."""
        self.lost: Exception | None = None
        """Why the connection closed, once it has (None: it has not, or it was closed)."""
        self.silence: SilenceLimit | None = None
        """A jump connection's limit on silence (:mod:`.silence`), if it has one."""

    def connection_made(self, conn: asyncssh.SSHClientConnection) -> None:
        self.connection = conn

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = exc

    def validate_host_public_key(
        self, host: str, addr: str, port: int, key: asyncssh.SSHKey
    ) -> bool:
        if self._book is None:
            return True
        self.offered = key
        self.refusal = self._book.judge(*self.key_name, key)
        return self.refusal is None


def revoked(exc: Exception) -> bool:
    """asyncssh refused the server's key, or its CA, as ``@revoked`` in known_hosts."""
    return isinstance(exc, asyncssh.HostKeyNotVerifiable) and "revoked" in exc.reason.lower()


async def naming_key(
    attempt: Awaitable[asyncssh.SSHClientConnection], key: str | None
) -> asyncssh.SSHClientConnection:
    """``attempt``, with a refused login saying which key was offered: the inventory's, or
    whatever ssh_config, ``~/.ssh/id_*`` and the agent offer (a wrong ``key:`` is the
    usual cause, and the host's sshd log only shows a fingerprint)."""
    try:
        return await attempt
    except TransportError as exc:
        if exc.status is not HostStatus.AUTH_FAILED or "refused" not in exc.message:
            raise
        offered = f"key {key}" if key else "ssh_config's IdentityFile, ~/.ssh/id_* and the agent"
        raise TransportError(exc.status, f"{exc.message} (offered: {offered})") from None


class PrivateKeys:
    """The private key files of a run, each read once: a fleet run opens thousands of
    connections with a handful of keys."""

    def __init__(self) -> None:
        self._keys: dict[str, asyncssh.SSHKey | None] = {}

    def load(self, key_path: str, where: str) -> asyncssh.SSHKey | None:
        """The key in ``key_path``, or None when it is encrypted and an ssh-agent is running
        (fleetaudit never asks for a passphrase: BatchMode); an unreadable key fails the
        login of ``where`` with a message that names the file."""
        try:
            if key_path not in self._keys:
                self._keys[key_path] = read_key(Path(key_path).expanduser())
            return self._keys[key_path]
        except OSError as exc:  # named here: a bare file name reads like a program elsewhere
            message = f"{where}: cannot read {exc.filename or key_path}: {exc.strerror}"
            raise TransportError(HostStatus.AUTH_FAILED, message) from None
        except ValueError as exc:
            error = translate(exc, where=where, phase="connect")
            if key_path in error.message:
                raise error from None
            raise TransportError(error.status, f"{error.message} ({key_path})") from None
