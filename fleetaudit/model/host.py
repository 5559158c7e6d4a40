"""What was learnt about one host in one run."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from fleetaudit.model.enums import HostStatus, Privilege, SocketState, Tool
from fleetaudit.model.socket import Socket


class LineError(BaseModel):
    """A line of command output that could not be parsed (the other lines still were)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    line: int
    text: str
    reason: str


class HostSnapshot(BaseModel):
    """One host's sockets, or why they could not be read.

    ``groups`` and ``labels`` are copied from the inventory so that the policy engine can
    judge a snapshot without seeing the inventory.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    host: str
    address: str
    groups: tuple[str, ...] = ()
    labels: dict[str, str] = Field(default_factory=dict)
    status: HostStatus
    error: str | None = None
    collected_at: datetime | None = None
    tool: Tool | None = None
    privilege: Privilege | None = None
    privilege_note: str | None = None
    """Why the host was audited without privilege, when it was (e.g. sudo refused)."""
    host_key_checked: bool = True
    """False when the run skipped host-key verification for this host."""
    sockets: tuple[Socket, ...] = ()
    parse_errors: tuple[LineError, ...] = ()
    duration_s: float | None = None

    @property
    def listeners(self) -> tuple[Socket, ...]:
        """Sockets that accept traffic from others: TCP LISTEN and unconnected UDP."""
        return tuple(s for s in self.sockets if s.state in (SocketState.LISTEN, SocketState.UNCONN))
