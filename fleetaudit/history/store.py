"""The run history: SQLite in WAL mode, one transaction per run, migrations by
``PRAGMA user_version``.

Each run is kept whole (its :class:`RunResult` as compressed JSON, so a diff sees exactly
what the report saw) plus a row per host status and per finding for quick listing and for
tools that query the file directly. Nightly cron and a person running ``fleetaudit diff``
may use the file at the same time: WAL lets readers work while a run is written.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from fleetaudit.errors import HistoryError, HistoryFullError
from fleetaudit.history import retention
from fleetaudit.history.connection import (
    WRITE_WAIT_S,
    damage_remedy,
    is_full,
    is_locked,
    locked_error,
    no_space_remedy,
    open_for_reading,
    open_for_writing,
    planted_history,
    use_wal,
)
from fleetaudit.history.coverage import Coverage
from fleetaudit.history.queries import RunQueries
from fleetaudit.history.rows import insert_run
from fleetaudit.history.schema import MERGES_SCHEMA, check_schema, migrate
from fleetaudit.model.run import RunResult


class HistoryStore(RunQueries):
    """An open history database; use as a context manager. It writes; what it reads is
    :class:`~fleetaudit.history.queries.RunQueries`.

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
            remedy = damage_remedy(exc, path) or no_space_remedy(path)
            raise HistoryError(f"cannot open history database {path}: {exc}{remedy}") from exc
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
            raise HistoryError(
                f"no history database at {path} (no run recorded yet; runs recorded with "
                "another --db or XDG_STATE_HOME, as a cron job's, are there: give --db)"
            )
        if (planted := planted_history(path, path.resolve())) is not None:
            raise HistoryError(f"cannot trust history database {path}: {planted}")
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

    def save_making_room(
        self,
        run: RunResult,
        exit_code: int,
        coverage: Coverage | None,
        *,
        shards: Sequence[str] = (),
        keep_days: int | None,
        now: datetime,
    ) -> int:
        """:meth:`save`; when its filesystem has no room for the run and ``keep_days`` is
        given, the runs older than that are deleted first (:meth:`prune`, sparing what the
        diffs need) and the run saved after. Pruning came only after a run was recorded,
        so a full disk stopped recording for good (QA). How many runs were deleted."""
        try:
            self.save(run, exit_code, coverage, shards=shards)
            return 0
        except HistoryFullError as full:
            if keep_days is None:
                raise HistoryFullError(f"{full} (or --keep-days: old runs deleted first)") from None
            first = full
        newest = self.runs(1)
        deleted = 0
        with contextlib.suppress(HistoryError):  # a batch or two may be deleted all the same
            deleted = self.prune(keep_days, now, spare=newest[0].id if newest else None)
        try:
            self.save(run, exit_code, coverage, shards=shards)
        except HistoryFullError:
            raise HistoryFullError(
                f"{first}; deleting the runs older than {keep_days} days (--keep-days) did not "
                "make room"
            ) from None
        return deleted

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

    def prune(self, keep_days: int, now: datetime, *, spare: str | None = None) -> int:
        """Delete runs that started more than ``keep_days`` days before ``now``, a few per
        transaction so another run waiting to record itself is never held up for long;
        then give the space back when that freed most of the file. How many were deleted.
        ``spare``: a run never deleted (the one just recorded, even if it started long ago:
        a merge of old shard files must not vanish the moment it is recorded). Nor is any
        run the next ``diff`` of an inventory in the history compares with
        (:meth:`needed_by_diffs`): a run made while the clock was months ahead would
        otherwise delete every other run, and a host down for longer than ``keep_days``
        would come back with its unchanged findings read as new."""
        kept = self.needed_by_diffs(spare) if spare else set()
        since = retention.age_reference(self._db, now, spare)
        expired = [i for i in retention.expired_runs(self._db, keep_days, since) if i not in kept]
        unpruned = "older runs were not all deleted"
        for batch in retention.batches(expired):  # bounded by the runs kept
            try:
                with self._transaction(unpruned) as db:
                    retention.delete_runs(db, batch)
            except HistoryFullError:
                if len(batch) == 1:
                    raise
                # a batch's deletion is written to the WAL first: one run needs least room
                for run_id in batch:
                    with self._transaction(unpruned) as db:
                        retention.delete_runs(db, [run_id])
        retention.reclaim(self._db, self.path)
        return len(expired)

    @contextmanager
    def _transaction(self, lost: str) -> Iterator[sqlite3.Connection]:
        """One write transaction; ``lost`` says what is lost when it fails."""
        try:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
                self._db.execute("COMMIT")
            except BaseException:
                # SQLite rolls some failures back itself (a full disk): a second ROLLBACK
                # then failed, and its "no transaction is active" hid the cause (QA)
                if self._db.in_transaction:
                    with contextlib.suppress(sqlite3.Error):
                        self._db.execute("ROLLBACK")
                raise
        except sqlite3.Error as exc:
            if is_locked(exc):
                raise locked_error(self.path, WRITE_WAIT_S, lost) from exc
            if is_full(exc):
                raise HistoryFullError(
                    f"history database {self.path}: no room left on its filesystem ({exc}); "
                    f"{lost}: free space there"
                ) from exc
            raise HistoryError(f"history database {self.path}: {exc}; {lost}") from exc
