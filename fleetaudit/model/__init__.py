"""Frozen, typed models that cross stage boundaries. Imports nothing from other stages.

The names below are imported on first use (PEP 562 ``__getattr__``), not with the package:
importing any ``fleetaudit.model`` module runs this file, and the parsers, which need only
:mod:`fleetaudit.model.raw`, would otherwise import pydantic for the other models. On a
small capture that took longer than ``fleetaudit parse`` itself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fleetaudit.lazy import exports

if TYPE_CHECKING:
    from fleetaudit.model.enums import (
        BindScope,
        Family,
        HostKeyPolicy,
        HostStatus,
        Privilege,
        Proto,
        Severity,
        SocketState,
        Tool,
    )
    from fleetaudit.model.finding import Finding, fingerprint
    from fleetaudit.model.host import HostSnapshot, LineError
    from fleetaudit.model.raw import RawProcess, RawSocket
    from fleetaudit.model.run import RunResult
    from fleetaudit.model.socket import Process, Socket

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

__getattr__, __dir__ = exports(
    __name__,
    {
        "BindScope": "enums",
        "Family": "enums",
        "HostStatus": "enums",
        "Privilege": "enums",
        "Proto": "enums",
        "Severity": "enums",
        "SocketState": "enums",
        "Tool": "enums",
        "Finding": "finding",
        "fingerprint": "finding",
        "HostSnapshot": "host",
        "LineError": "host",
        "RawProcess": "raw",
        "RawSocket": "raw",
        "HostKeyPolicy": "enums",
        "RunResult": "run",
        "Process": "socket",
        "Socket": "socket",
    },
)
