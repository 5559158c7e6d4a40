"""Transport stage: reach a host and run the constant collection command on it.

:class:`SshTransport` (asyncssh) is the real one; :class:`LocalTransport` serves
``transport: local`` hosts; :class:`ReplayTransport` answers from recordings. All raise
:class:`~fleetaudit.errors.TransportError`, translated in :mod:`.errors` only.
"""

from __future__ import annotations

from fleetaudit.transport.interface import CommandResult, Session, Transport
from fleetaudit.transport.local import LocalTransport
from fleetaudit.transport.replay import ReplayTransport, Responder
from fleetaudit.transport.ssh import SshTransport
from fleetaudit.transport.ssh_settings import SshSettings

__all__ = [
    "CommandResult",
    "LocalTransport",
    "ReplayTransport",
    "Responder",
    "Session",
    "SshSettings",
    "SshTransport",
    "Transport",
]
