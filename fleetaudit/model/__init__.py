"""Frozen, typed models that cross stage boundaries. Imports nothing from other stages."""

from fleetaudit.model.enums import (
    BindScope,
    Family,
    HostStatus,
    Privilege,
    Proto,
    Severity,
    SocketState,
    Tool,
)
from fleetaudit.model.finding import Finding, fingerprint
from fleetaudit.model.host import HostSnapshot, LineError
from fleetaudit.model.run import HostKeyPolicy, RunResult
from fleetaudit.model.socket import Process, RawProcess, RawSocket, Socket

__all__ = [
    "BindScope",
    "Family",
    "Finding",
    "HostKeyPolicy",
    "HostSnapshot",
    "HostStatus",
    "LineError",
    "Privilege",
    "Process",
    "Proto",
    "RawProcess",
    "RawSocket",
    "RunResult",
    "Severity",
    "Socket",
    "SocketState",
    "Tool",
    "fingerprint",
]
