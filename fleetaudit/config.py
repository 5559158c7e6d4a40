"""Run-wide settings of an audit, as the library and the CLI share them."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from fleetaudit.model.run import HostKeyPolicy


def default_state_dir() -> Path:
    """``$XDG_STATE_HOME/fleetaudit`` (``~/.local/state/fleetaudit``): where fleetaudit keeps
    what it learns between runs, such as keys accepted with ``--accept-new``."""
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "fleetaudit"


class AuditConfig(BaseModel):
    """How an audit connects and how long it waits. Defaults are safe for cron."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    concurrency: int = Field(default=100, ge=1, le=10_000)
    connect_timeout: float = Field(default=10.0, gt=0)
    """TCP connect plus SSH handshake."""
    login_timeout: float = Field(default=20.0, gt=0)
    command_timeout: float = Field(default=60.0, gt=0)
    known_hosts: tuple[Path, ...] = (Path("~/.ssh/known_hosts").expanduser(),)
    host_key_policy: HostKeyPolicy = HostKeyPolicy.STRICT
    accept_new_file: Path = Field(default_factory=lambda: default_state_dir() / "known_hosts")
    max_output_bytes: int = Field(default=64 * 1024 * 1024, ge=1024)
    samples: int = Field(default=1, ge=1, le=100)
    """Listings per host, ``interval`` seconds apart: backlog and queue rules then flag only
    what persists in every sample."""
    interval: float = Field(default=5.0, ge=0)
    use_ssh_config: bool = True
    ssh_config: Path | None = None
    """An OpenSSH client config file to read instead of ``~/.ssh/config``."""
    """Read ``~/.ssh/config`` like OpenSSH; off for the self-contained demo and tests."""

    @property
    def host_deadline(self) -> float:
        """A whole host's budget: each phase's timeout, every sample, plus slack."""
        sampling = (self.samples - 1) * (self.interval + self.command_timeout)
        return self.connect_timeout + self.login_timeout + self.command_timeout + sampling + 5.0
