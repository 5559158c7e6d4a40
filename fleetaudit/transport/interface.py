"""The transport contract: open a session to a host and run constant commands on it.

Implementations: :mod:`~fleetaudit.transport.ssh` (asyncssh, the real one),
:mod:`~fleetaudit.transport.local` (this machine, no SSH) and
:mod:`~fleetaudit.transport.replay` (answers from recorded captures). Every failure leaves a
transport as a :class:`~fleetaudit.errors.TransportError` carrying the host status.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Hashable
from contextlib import AbstractAsyncContextManager, nullcontext
from dataclasses import dataclass
from types import TracebackType

from fleetaudit.inventory.model import Host


@dataclass(frozen=True, slots=True)
class CommandResult:
    """What one remote command produced. ``stdout`` is cut at the transport's output cap,
    in which case ``truncated`` is True."""

    command: str
    exit_status: int | None
    """None when the command did not exit by itself: killed by a signal (``exit_signal``),
    stopped at the output cap (``truncated``), or its channel closed without saying how it
    ended (the output may then be cut)."""
    stdout: str
    stderr: str
    """Its last 64 KiB at most: stderr is drained to its end, but only the tail is kept."""
    truncated: bool = False
    exit_signal: str | None = None
    """The signal that killed the command, as SSH names it (``KILL``, ``SEGV``)."""


class Session(ABC):
    """An open connection to one host. Use as an async context manager."""

    server_software: str | None = None
    """The SSH server's software and version from its banner (``OpenSSH_9.2p1``); None
    without SSH."""
    login_user: str | None = None
    """The user the SSH server logged fleetaudit in as, wherever it was set (inventory,
    ssh_config, the local user's name); None without SSH."""

    @abstractmethod
    async def run(self, command: str, *, timeout: float) -> CommandResult:  # pragma: no cover
        """Run one constant command (an sh script from the catalogue) under ``/bin/sh`` and
        collect its output.

        A non-zero exit status is returned, not raised: the caller decides what it means.
        Raises TransportError on timeout or a lost connection: ``command_failed``, never
        ``timeout`` or ``connection_lost``, since the host was reached (a host that stalls
        or drops its listing must not pass for one that is down; see ``_NOT_REACHED``).
        """

    @abstractmethod
    async def close(self) -> None:  # pragma: no cover
        """Close the connection and free everything it holds."""

    async def __aenter__(self) -> Session:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()


class Transport(ABC):
    """Opens sessions to hosts. One instance serves a whole run (shared caches live here)."""

    verifies_host_keys: bool | None = None
    """What a report may say about the hosts' keys: True, each was verified; False, SSH
    without verification (``--insecure-no-host-key-check``); None, no SSH and so no key
    (this machine, a saved capture)."""

    def admission(self, host: Host) -> AbstractAsyncContextManager[object]:
        """Held around everything done for ``host`` (opening its session included): waits
        for the run-wide limits a host shares with others (a jump host's tunnels), so that
        the host's own deadline starts only once it is its turn. May raise TransportError."""
        return nullcontext()

    def queue_of(self, host: Host) -> Hashable | None:
        """The shared limit ``host`` waits for in :meth:`admission` (its jump host), None
        when it waits for none: the collection takes another host while that one is busy
        rather than let a worker sit idle in its queue."""
        return None

    def queue_free(self, queue: Hashable) -> bool:
        """Whether a host of ``queue`` (from :meth:`queue_of`) would be admitted at once."""
        return True

    @abstractmethod
    async def open(self, host: Host) -> Session:  # pragma: no cover
        """Connect and authenticate to ``host``; raise TransportError if that fails. A
        caller that opens sessions for many hosts at once holds :meth:`admission` around
        each, as the collection does."""

    async def aclose(self) -> None:  # noqa: B027 (optional hook, not abstract)
        """Release run-wide resources (jump-host connections, caches)."""
