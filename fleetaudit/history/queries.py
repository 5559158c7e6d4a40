"""Reading the run history: runs listed, named and loaded, and which came before which.

"Before" is the order runs were recorded in (schema 5; start times in a database not yet
migrated, read-only), never the start times themselves: a run made while the clock was
wrong must neither hide behind the runs before it nor pass for the latest for months.
:class:`~fleetaudit.history.store.HistoryStore` opens the connection and writes.
"""

from __future__ import annotations

import itertools
import json
import zlib
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from fleetaudit.errors import HistoryError
from fleetaudit.history.coverage import Coverage
from fleetaudit.history.rows import RunRow, RunTimes
from fleetaudit.history.schema import COVERAGE_SCHEMA
from fleetaudit.history.sql import HistorySql
from fleetaudit.model.enums import HostStatus
from fleetaudit.model.run import RunResult

_CANDIDATES = 10
"""Runs an ambiguous id's error message lists."""


class RunQueries(HistorySql):
    """The queries of an open history database: which runs it holds, in what order, and
    what each recorded."""

    def runs(self, limit: int = 50) -> list[RunRow]:
        """The most recent runs, newest first."""
        if not self._ours:
            return []
        # Counted from host_status, which every schema version has: no migration needed.
        rows = self._query(
            "SELECT id, started_at, policy, hosts, hosts_failed, findings, exit_code, "  # noqa: S608
            "(SELECT count(*) FROM host_status WHERE run_id = runs.id AND status = ?) "
            f"FROM runs ORDER BY {self._newest_first()} LIMIT ?",
            (HostStatus.INTERRUPTED.value, limit),
        )
        return [RunRow(*row) for row in rows]

    def recorded(self, run_ids: Iterable[str]) -> list[str]:
        """Those of ``run_ids`` the history holds."""
        if not self._ours:
            return []
        sql = "SELECT id FROM runs WHERE id IN (SELECT value FROM json_each(?)) ORDER BY id"
        return [row[0] for row in self._query(sql, (json.dumps(list(run_ids)),))]

    def load(self, ref: str) -> RunResult:
        """The stored run ``ref`` (see :meth:`resolve`)."""
        return self.load_exact(self.resolve(ref))

    def resolve(self, ref: str) -> str:
        """The id of the one run that ``ref`` names: the id, a unique prefix of it, or the
        random part after its ``-`` (``f50dfb``, what people copy); HistoryError listing
        the candidates when several match."""
        if not self._ours:
            raise HistoryError(f"no run {ref!r} in {self.path} (it holds no run yet)")
        rows = self._query(
            "SELECT id, started_at FROM runs WHERE substr(lower(id), 1, length(?1)) = lower(?1) "  # noqa: S608
            "OR substr(lower(id), -length(?1) - 1) = '-' || lower(?1) "
            f"ORDER BY {self._newest_first()}",
            (ref,),
        )
        if not rows:
            raise HistoryError(
                f"no run {ref!r} in {self.path} (`fleetaudit history` lists the runs it holds)"
            )
        if len(rows) > 1:
            shown = [
                f"{rid} ({started[:19].replace('T', ' ')} UTC)"
                for rid, started in rows[:_CANDIDATES]
            ]
            more = f", and {len(rows) - _CANDIDATES} more" if len(rows) > _CANDIDATES else ""
            raise HistoryError(f"run id {ref!r} is ambiguous; it matches {', '.join(shown)}{more}")
        return str(rows[0][0])

    def exit_code(self, run_id: str) -> int:
        """The exit code recorded with the run whose id is exactly ``run_id``."""
        return int(self._exactly("SELECT exit_code FROM runs WHERE id = ?", run_id))

    def audited_before(self, older: RunResult) -> Iterator[tuple[str, set[str]]]:
        """The runs recorded before ``older``, newest first, each with the hosts it
        audited; read one run at a time, so a caller that stops early reads little."""
        # HostStatus holds the rule; a status this version does not know was not audited
        audited = {status.value for status in HostStatus if status.audited}
        for run_id, _, statuses in self.statuses_before(older):
            yield run_id, {host for host, status in statuses.items() if status in audited}

    def statuses_before(self, older: RunResult) -> Iterator[tuple[str, datetime, dict[str, str]]]:
        """The runs recorded before ``older``, newest first, each with when it started and
        the status it recorded per host (as stored: a status written by a newer version
        stays a string); read one run at a time, so a caller that stops early reads little.
        """
        if self.recorded([older.run_id]):
            earlier = self._recorded_before(older.run_id)
        else:  # a run read from a file: the runs that started before it
            earlier = self._query(
                "SELECT id, started_at FROM runs WHERE (started_at, id) < (?, ?) "
                "ORDER BY started_at DESC, id DESC",
                (older.started_at.isoformat(), older.run_id),
            )
        for run_id, started_at in earlier:
            yield run_id, datetime.fromisoformat(started_at), self._statuses(run_id)

    def findings_before(
        self, older: RunResult, hosts: Iterable[str]
    ) -> Iterator[tuple[str, list[tuple[str, str, str | None, str]]]]:
        """The runs recorded before ``older``, newest first, each with the ``(host, rule,
        listener, fingerprint)`` of its findings on ``hosts``; one run at a time."""
        wanted = json.dumps(sorted(set(hosts)))
        for run_id, _ in self._recorded_before(older.run_id):
            rows = self._query(
                "SELECT host, rule_id, listener, fingerprint FROM findings WHERE run_id = ? "
                "AND host IN (SELECT value FROM json_each(?))",
                (run_id, wanted),
            )
            yield run_id, [(str(h), str(r), listener, str(f)) for h, r, listener, f in rows]

    def last_audits(self, run_id: str) -> set[str]:
        """For each host the recorded run ``run_id`` selected but did not audit, the latest
        run recorded before it that did: what a diff of ``run_id`` compares that host with
        (see :func:`fleetaudit.history.earlier.baselines`). Stops once all are found."""
        audited = {status.value for status in HostStatus if status.audited}
        missing = {host for host, status in self._statuses(run_id).items() if status not in audited}
        found: set[str] = set()
        for earlier, _ in self._recorded_before(run_id):  # bounded by the runs kept
            if not missing:
                break
            statuses = self._statuses(earlier)
            if hits := {host for host in missing if statuses.get(host) in audited}:
                found.add(earlier)
                missing -= hits
        return found

    def _statuses(self, run_id: str) -> dict[str, str]:
        """The status ``run_id`` recorded per host, as stored."""
        rows = self._query("SELECT host, status FROM host_status WHERE run_id = ?", (run_id,))
        return {str(host): str(status) for host, status in rows}

    def _recorded_before(self, run_id: str) -> list[tuple[Any, ...]]:
        """``(id, started_at)`` of the runs recorded before ``run_id``, newest first."""
        key = self._key()
        return self._query(
            f"SELECT id, started_at FROM runs WHERE ({key}) < "  # noqa: S608
            f"(SELECT {key} FROM runs WHERE id = ?) ORDER BY {self._newest_first()}",
            (run_id,),
        )

    def last_full_success(
        self, inventory: str, excluding: Iterable[str] = (), now: datetime | None = None
    ) -> datetime | None:
        """When the latest recorded run of ``inventory`` (an :func:`inventory_key`) that
        selected and audited every one of its hosts finished, leaving out the runs
        ``excluding`` (about to be replaced) and those said to finish after ``now`` (made
        while the clock was ahead: they would hold a staleness alert off for months). Runs
        recorded without a :class:`Coverage` (before schema 2, or saved without one) never
        count: they may have been a ``--limit`` run or of another inventory."""
        if not self._ours or self._schema() < COVERAGE_SCHEMA:
            return None  # not migrated yet (read-only): no run records its coverage
        latest = (now or datetime.max).isoformat()  # max: naive, sorts after every time
        rows = self._query(
            "SELECT finished_at FROM runs WHERE hosts > 0 AND hosts_failed = 0 "  # noqa: S608
            "AND whole_inventory = 1 AND inventory = ? "
            "AND id NOT IN (SELECT value FROM json_each(?)) AND finished_at <= ? "
            f"ORDER BY {self._newest_first()} LIMIT 1",
            (inventory, json.dumps(list(excluding)), latest),
        )
        return datetime.fromisoformat(rows[0][0]) if rows else None

    def coverage(self, run_id: str) -> Coverage | None:
        """What the run ``run_id`` covered; None when it did not record it."""
        if self._schema() < COVERAGE_SCHEMA:
            return None
        rows = self._query("SELECT inventory, whole_inventory FROM runs WHERE id = ?", (run_id,))
        if not rows or rows[0][0] is None or rows[0][1] is None:
            return None
        return Coverage(rows[0][0], bool(rows[0][1]))

    def earlier_of(self, run_id: str, inventory: str) -> Iterator[tuple[str, bool]]:
        """The runs of ``inventory`` recorded before ``run_id``, newest first, each with
        whether it selected the whole inventory."""
        key = self._key()
        rows = self._query(
            f"SELECT id, whole_inventory FROM runs WHERE inventory = ? AND ({key}) < "  # noqa: S608
            f"(SELECT {key} FROM runs WHERE id = ?) ORDER BY {self._newest_first()}",
            (inventory, run_id),
        )
        yield from ((rid, bool(whole)) for rid, whole in rows)

    def needed_by_diffs(self, latest: str) -> set[str]:
        """The runs the next default ``diff`` of each inventory the history holds compares
        with, which ``--keep-days`` must not delete: ``latest``, and per inventory its
        newest run, the run of it recorded before that and its newest earlier run of the
        whole inventory (what a diff of a ``--limit`` run, and the next night's, compare
        with); and for each host one of those could not audit, the last run that did."""
        needed = {latest}
        for newest in self._newest_of_each_inventory():
            needed.add(newest)
            covered = self.coverage(newest)
            earlier = list(self.earlier_of(newest, covered.inventory)) if covered else []
            needed.update(run for run, _ in earlier[:1])
            needed.update(itertools.islice((run for run, whole in earlier if whole), 1))
        for run_id in list(needed):
            needed |= self.last_audits(run_id)
        return needed

    def _newest_of_each_inventory(self) -> list[str]:
        """The newest run of each inventory (none before schema 2, which recorded none)."""
        if self._schema() < COVERAGE_SCHEMA:
            return []
        inventories = self._query(
            "SELECT DISTINCT inventory FROM runs WHERE inventory IS NOT NULL", ()
        )
        # bounded by the inventories recorded
        return [run for (inventory,) in inventories if (run := self.newest_of(inventory))]

    def newest_of(self, inventory: str) -> str | None:
        """The newest run of ``inventory``, None when none is recorded."""
        rows = self._query(
            f"SELECT id FROM runs WHERE inventory = ? ORDER BY {self._newest_first()} "  # noqa: S608
            "LIMIT 1",
            (inventory,),
        )
        return str(rows[0][0]) if rows else None

    def recorded_before(self, run_id: str) -> RunTimes | None:
        """The run recorded just before ``run_id``, with when it started and finished."""
        key = self._key()
        rows = self._query(
            f"SELECT id, started_at, finished_at FROM runs WHERE ({key}) < "  # noqa: S608
            f"(SELECT {key} FROM runs WHERE id = ?) ORDER BY {self._newest_first()} LIMIT 1",
            (run_id,),
        )
        return self._times(rows[0]) if rows else None

    def times(self, run_id: str) -> RunTimes | None:
        """When the run ``run_id`` started and finished."""
        rows = self._query("SELECT id, started_at, finished_at FROM runs WHERE id = ?", (run_id,))
        return self._times(rows[0]) if rows else None

    @staticmethod
    def _times(row: tuple[Any, ...]) -> RunTimes:
        return RunTimes(row[0], datetime.fromisoformat(row[1]), datetime.fromisoformat(row[2]))

    def hosts(self, run_id: str) -> set[str]:
        """The hosts the run ``run_id`` selected (whatever became of them)."""
        return {
            r[0] for r in self._query("SELECT host FROM host_status WHERE run_id = ?", (run_id,))
        }

    def runs_between(self, older: str, newer: str) -> int:
        """How many runs were recorded after ``older`` and before ``newer``."""
        key = self._key()
        return int(
            self._query(
                f"SELECT count(*) FROM runs WHERE ({key}) > "  # noqa: S608
                f"(SELECT {key} FROM runs WHERE id = ?1) AND ({key}) < "
                f"(SELECT {key} FROM runs WHERE id = ?2)",
                (older, newer),
            )[0][0]
        )

    def load_exact(self, run_id: str) -> RunResult:
        """The stored run whose id is exactly ``run_id``."""
        return RunResult.model_validate_json(
            zlib.decompress(self._exactly("SELECT document FROM runs WHERE id = ?", run_id))
        )
