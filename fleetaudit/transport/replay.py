"""The replay transport: hosts answer from recordings, without any network.

Used to evaluate saved captures through the same collection code path, and by tests of the
stages above the transport. A responder is what :meth:`RecordedHost.reply
<fleetaudit.lab.replies.RecordedHost.reply>` is: command in, ``(status, stdout, stderr)`` out.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from fleetaudit.errors import TransportError
from fleetaudit.inventory.model import Host
from fleetaudit.model.enums import HostStatus
from fleetaudit.transport.interface import CommandResult, Session, Transport

Responder = Callable[[str], tuple[int, str, str]]


class ReplayTransport(Transport):
    """Serves each host (by inventory name) from its responder."""

    def __init__(self, responders: Mapping[str, Responder]) -> None:
        self._responders = dict(responders)

    async def open(self, host: Host) -> Session:
        responder = self._responders.get(host.name)
        if responder is None:
            raise TransportError(HostStatus.UNREACHABLE, f"{host.name}: no recording to replay")
        return _ReplaySession(responder)


class _ReplaySession(Session):
    def __init__(self, responder: Responder) -> None:
        self._responder = responder

    async def run(self, command: str, *, timeout: float) -> CommandResult:
        status, stdout, stderr = self._responder(command)
        return CommandResult(command=command, exit_status=status, stdout=stdout, stderr=stderr)

    async def close(self) -> None:
        """Nothing to release."""
