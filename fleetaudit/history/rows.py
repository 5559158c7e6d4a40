"""Where the history lives by default, and the rows ``fleetaudit history`` lists."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from fleetaudit.config import default_state_dir


def default_db_path() -> Path:
    """``$XDG_STATE_HOME/fleetaudit/history.sqlite``."""
    return default_state_dir() / "history.sqlite"


@dataclass(frozen=True, slots=True)
class RunRow:
    """One line of ``fleetaudit history``."""

    id: str
    started_at: str
    policy: str
    hosts: int
    hosts_failed: int
    """Hosts not audited, those the run was stopped before finishing included (as stored
    in ``runs.hosts_failed`` by every version)."""
    findings: int
    exit_code: int
    hosts_interrupted: int
    """Hosts the run was stopped (SIGINT/SIGTERM) before finishing: they say nothing about
    the host, so ``history`` shows them apart from the hosts that really failed."""

    @property
    def hosts_broken(self) -> int:
        """Hosts that failed for a reason of their own (not because the run was stopped)."""
        return self.hosts_failed - self.hosts_interrupted
