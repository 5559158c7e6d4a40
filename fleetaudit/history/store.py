"""The run history: SQLite in WAL mode, one transaction per run, migrations by
``PRAGMA user_version``.

Each run is kept whole (its :class:`RunResult` as compressed JSON, so a diff sees exactly
what the report saw) plus a row per host status and per finding for quick listing and for
tools that query the file directly. Nightly cron and a person running ``fleetaudit diff``
may use the file at the same time: WAL lets readers work while a run is written.
"""

from __future__ import annotations

import itertools
import json
import sqlite3
import zlib
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from fleetaudit.errors import HistoryError
from fleetaudit.history import retention
from fleetaudit.history.connection import (
    WRITE_WAIT_S,
    is_locked,
    locked_error,
    open_for_reading,
    open_for_writing,
    use_wal,
)
from fleetaudit.history.coverage import Coverage
from fleetaudit.history.rows import RunRow, insert_run
from fleetaudit.history.schema import (
    COVERAGE_SCHEMA,
    MERGES_SCHEMA,
    check_schema,
    migrate,
    run_order,
)
from fleetaudit.model.enums import HostStatus
from fleetaudit.model.run import RunResult

_CANDIDATES = 10
"""Runs an ambiguous id's error message lists."""


class HistoryStore:
    """An open history database; use as a context manager.

    ``HistoryStore(path)`` is for recording (``run``): it creates the file (mode 0600), its
    directory (mode 0700) and the tables when they do not exist. :meth:`open_read_only` is for
    ``history`` and ``diff``, which must never create or alter anything. Both refuse a
    database that holds other tables than fleetaudit's: ``--db`` pointing at another
    program's file must not get our tables added to it.
    """

    def __init__(self, path: Path, *, read_only: bool = False) -> None:
        self.path = path
        self._db = open_for_reading(path) if read_only else open_for_writing(path)
        try:
            self._ours = self._prepare(read_only)
        except sqlite3.Error as exc:
            self._db.close()
            if is_locked(exc):
                raise locked_error(path, WRITE_WAIT_S, "nothing was recorded") from exc
            raise HistoryError(f"cannot open history database {path}: {exc}") from exc
        except HistoryError:
            self._db.close()
            raise

    def _prepare(self, read_only: bool) -> bool:
        """Check the schema and, for writing, create or migrate it; whether it is ours."""
        ours = check_schema(self._db, self.path)
        if read_only:
            return ours
        # Only after the schema check: WAL mode is persistent, a change to the file.
        use_wal(self._db)
        self._db.execute("PRAGMA foreign_keys=ON")
        migrate(self._db)
        return True

    @classmethod
    def open_read_only(cls, path: Path) -> HistoryStore:
        """The existing database at ``path``, opened read-only; HistoryError when there is
        none (reading never creates one)."""
        if path.is_dir():
            raise HistoryError(f"{path} is a directory, not a history database (give the file)")
        if not path.is_file():
            raise HistoryError(f"no history database at {path} (no run recorded yet)")
        return cls(path, read_only=True)

    def __enter__(self) -> HistoryStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the database."""
        self._db.close()

    def save(
        self,
        run: RunResult,
        exit_code: int,
        coverage: Coverage | None = None,
        *,
        shards: Sequence[str] = (),
    ) -> None:
        """Store ``run`` in one transaction: all of it, or (on any error) nothing.

        ``coverage``: what the run selected; without it the run never counts as auditing
        the whole fleet (see :meth:`last_full_success`). ``shards``: the ids of the shard
        runs a merged run was made of. A merged run replaces its :meth:`earlier_merges`,
        in the same transaction: two merges of one night at once leave one record."""
        with self._transaction("this run was not recorded") as db:
            if shards:
                replaced = self.earlier_merges(run.run_id, shards)
                for batch in retention.batches(replaced):
                    retention.delete_runs(db, batch)
            insert_run(db, run, exit_code, coverage, shards)

    def earlier_merges(self, run_id: str, shard_ids: Sequence[str]) -> list[str]:
        """The recorded runs the merged run ``run_id`` of the shard runs ``shard_ids``
        replaces: its own id when recorded (the same shards merged again), first, then
        every merge that used one of its shard runs (the night merged again after shards
        were run again; none before schema 4, which records them)."""
        same = self.recorded([run_id])
        if not self._ours or self._schema() < MERGES_SCHEMA:
            return same  # not migrated yet (read-only): no merge records its shards
        sharing = self._query(
            "SELECT DISTINCT run_id FROM merged_shards WHERE run_id != ? "
            "AND shard_run_id IN (SELECT value FROM json_each(?)) ORDER BY run_id",
            (run_id, json.dumps(list(shard_ids))),
        )
        return same + [row[0] for row in sharing]

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
            raise HistoryError(f"no run {ref!r} in {self.path}")
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
            key = self._key()
            earlier = self._query(
                f"SELECT id, started_at FROM runs WHERE ({key}) < "  # noqa: S608
                f"(SELECT {key} FROM runs WHERE id = ?) ORDER BY {self._newest_first()}",
                (older.run_id,),
            )
        else:  # a run read from a file: the runs that started before it
            earlier = self._query(
                "SELECT id, started_at FROM runs WHERE (started_at, id) < (?, ?) "
                "ORDER BY started_at DESC, id DESC",
                (older.started_at.isoformat(), older.run_id),
            )
        for run_id, started_at in earlier:
            rows = self._query("SELECT host, status FROM host_status WHERE run_id = ?", (run_id,))
            yield run_id, datetime.fromisoformat(started_at), dict(rows)

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
        latest = (now or datetime.max.replace(tzinfo=None)).isoformat()
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

    def _baseline_of(self, run_id: str) -> list[str]:
        """The run of ``run_id``'s inventory recorded just before it, if any."""
        covered = self.coverage(run_id)
        earlier = self.earlier_of(run_id, covered.inventory) if covered else iter(())
        return [run for run, _ in itertools.islice(earlier, 1)]

    def started_after(self, run: RunResult) -> tuple[str, datetime] | None:
        """The latest-starting run recorded before ``run`` that started after it: there
        is one only when the clock was wrong for one of them."""
        key = self._key()
        rows = self._query(
            f"SELECT id, started_at FROM runs WHERE ({key}) < "  # noqa: S608
            f"(SELECT {key} FROM runs WHERE id = ?) AND started_at > ? "
            "ORDER BY started_at DESC LIMIT 1",
            (run.run_id, run.started_at.isoformat()),
        )
        return (rows[0][0], datetime.fromisoformat(rows[0][1])) if rows else None

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

    def _exactly(self, sql: str, run_id: str) -> Any:
        """The one value ``sql`` selects for the run ``run_id``; HistoryError if none."""
        rows = self._query(sql, (run_id,))
        if not rows:
            raise HistoryError(f"no run {run_id!r} in {self.path}")
        return rows[0][0]

    def prune(self, keep_days: int, now: datetime, *, spare: str | None = None) -> int:
        """Delete runs that started more than ``keep_days`` days before ``now``, a few per
        transaction so another run waiting to record itself is never held up for long;
        then give the space back when that freed most of the file. How many were deleted.
        ``spare``: a run never deleted (the one just recorded, even if it started long ago:
        a merge of old shard files must not vanish the moment it is recorded), nor the run
        of its inventory recorded before it, which the next ``diff`` compares it with (a run
        made while the clock was months ahead would otherwise delete every other run)."""
        kept = {spare, *self._baseline_of(spare)} if spare else set()
        expired = [i for i in retention.expired_runs(self._db, keep_days, now) if i not in kept]
        unpruned = "this run was recorded, but older runs were not all deleted"
        for batch in retention.batches(expired):  # bounded by the runs kept
            with self._transaction(unpruned) as db:
                retention.delete_runs(db, batch)
        retention.reclaim(self._db, self.path)
        return len(expired)

    @contextmanager
    def _transaction(self, lost: str) -> Iterator[sqlite3.Connection]:
        """One write transaction; ``lost`` says what is lost when it fails."""
        try:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
        except sqlite3.Error as exc:
            if is_locked(exc):
                raise locked_error(self.path, WRITE_WAIT_S, lost) from exc
            raise HistoryError(f"history database {self.path}: {exc}; {lost}") from exc

    def _schema(self) -> int:
        """The database's schema version (``PRAGMA user_version``)."""
        return int(self._query("PRAGMA user_version", ())[0][0])

    def _key(self) -> str:
        """The columns that order runs, oldest first (see :func:`run_order`): the only text
        ever put into this module's SQL, one of two constants (hence its ``noqa: S608``)."""
        return run_order(self._schema())

    def _newest_first(self) -> str:
        """The ORDER BY clause of runs newest first."""
        return ", ".join(f"{column} DESC" for column in self._key().split(", "))

    def _query(self, sql: str, params: tuple[object, ...]) -> list[tuple[Any, ...]]:
        try:
            return self._db.execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise HistoryError(f"history database {self.path}: {exc}") from exc
