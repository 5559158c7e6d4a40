"""Where the history lives by default, how a run is written into its tables, and the rows
``fleetaudit history`` lists."""

from __future__ import annotations

import sqlite3
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from fleetaudit.config import default_state_dir
from fleetaudit.history.coverage import Coverage
from fleetaudit.model.run import RunResult


def default_db_path() -> Path:
    """``$XDG_STATE_HOME/fleetaudit/history.sqlite``."""
    return default_state_dir() / "history.sqlite"


@dataclass(frozen=True, slots=True)
class RunTimes:
    """When one recorded run started and finished, by its own clock."""

    id: str
    started_at: datetime
    finished_at: datetime

    def overlapped(self, other: RunTimes) -> bool:
        """Whether the two runs ran at the same time, by their own clocks: each started
        before the other finished (a short run inside a long one counts too; QA)."""
        return self.started_at < other.finished_at and other.started_at < self.finished_at


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


def insert_run(
    db: sqlite3.Connection,
    run: RunResult,
    exit_code: int,
    coverage: Coverage | None,
    shards: Sequence[str] = (),
) -> None:
    """Insert ``run`` (its row with the compressed document, its hosts' statuses and its
    findings, and the ids of the ``shards`` it was merged from) in the caller's
    transaction."""
    document = zlib.compress(_document(run).encode("utf-8"), 6)
    inventory, whole = (coverage.inventory, int(coverage.whole)) if coverage else (None, None)
    db.execute(
        # Columns named: migrations add columns to runs.
        "INSERT INTO runs (id, started_at, finished_at, policy, fleetaudit_version, "
        "hosts, hosts_failed, findings, exit_code, document, inventory, "
        "whole_inventory, recorded) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
        "(SELECT coalesce(max(recorded), 0) + 1 FROM runs))",
        (
            run.run_id,
            run.started_at.isoformat(),
            run.finished_at.isoformat(),
            run.policy_name,
            run.fleetaudit_version,
            len(run.snapshots),
            len(run.failed_hosts),
            len(run.active_findings),
            exit_code,
            document,
            inventory,
            whole,
        ),
    )
    db.executemany(
        "INSERT INTO host_status VALUES (?, ?, ?, ?)",
        [(run.run_id, s.host, s.status.value, s.error) for s in run.snapshots],
    )
    db.executemany(
        "INSERT INTO findings VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (run.run_id, f.host, f.rule_id, f.severity.value, f.fingerprint,
             int(f.waived), f.socket.endpoint if f.socket else None, f.message)
            for f in run.findings
        ],
    )  # fmt: skip
    db.executemany(
        "INSERT INTO merged_shards VALUES (?, ?)", [(run.run_id, shard) for shard in shards]
    )


ADDED_SINCE_0_3 = frozenset({"hidden_processes", "rules_judged"})
"""Host fields added since fleetaudit 0.3.0, kept out of the stored run: 0.3.0 and 0.4.0
refuse a run whose document holds a field they do not know (0.3.0's ``diff`` stopped with
an internal error after a rollback, QA). Nothing reads them back from the history:
``hidden_processes`` explains sockets that are stored as owner unknown, in the coverage
finding stored with its message; ``rules_judged`` serves the run's own JUnit report."""


def _document(run: RunResult) -> str:
    """The run as stored, without the fields of :data:`ADDED_SINCE_0_3`."""
    every_host = dict.fromkeys(range(len(run.snapshots)), set(ADDED_SINCE_0_3))
    return run.model_dump_json(exclude={"snapshots": every_host})
