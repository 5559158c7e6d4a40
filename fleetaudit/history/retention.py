"""``--keep-days``: deleting old runs, and giving their space back.

A year of nightly runs of 300 hosts is some 400 runs and millions of rows. Pruning must
not hold the write lock for long, or the next run waiting to record itself gives up and is
lost: runs are deleted a few at a time, each batch in its own short transaction, children
first (by ``run_id``, indexed since schema 3) so no cascade scans a table. SQLite does not
shrink a file on its own (``auto_vacuum`` is off), so when pruning leaves most of the file
free it is rewritten by ``VACUUM``: measured 0.1-0.3 s for the pruned files of a year, and
it only runs when it halves the file at least.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timedelta
from pathlib import Path

from fleetaudit.errors import HistoryError
from fleetaudit.history.connection import is_full, is_locked

PRUNE_BATCH = 20
"""Runs deleted per transaction: with 300 hosts a batch is some 25k rows, a few ms."""
VACUUM_FREE_SHARE = 0.5
"""Rewrite the file when more than this share of its pages is free."""
_DELETES = (
    "DELETE FROM merged_shards WHERE run_id IN (SELECT value FROM json_each(?))",
    "DELETE FROM findings WHERE run_id IN (SELECT value FROM json_each(?))",
    "DELETE FROM host_status WHERE run_id IN (SELECT value FROM json_each(?))",
    "DELETE FROM runs WHERE id IN (SELECT value FROM json_each(?))",
)
"""A batch of runs (a JSON list of ids) deleted: the tables whose rows belong to a run
(``run_id REFERENCES runs ON DELETE CASCADE``) first, each through its run_id index."""


def age_reference(db: sqlite3.Connection, now: datetime, spare: str | None) -> datetime:
    """The moment runs' ages are counted from: ``now``, or a day after the newest run but
    ``spare`` (the one just recorded) started, when that is earlier (``now`` without
    ``spare``). A run made while the clock was months ahead otherwise deleted every run of
    those months but the few a diff needs (QA: 80 runs became 9); it now deletes what a
    run a day later would. (A clock that stays wrong for several runs still counts from
    the second one on.)"""
    if spare is None:
        return now
    newest = db.execute("SELECT max(started_at) FROM runs WHERE id != ?", (spare,)).fetchone()[0]
    if newest is None:
        return now
    try:
        return min(now, datetime.fromisoformat(newest) + timedelta(days=1))
    except (ValueError, OverflowError):
        return now


def expired_runs(db: sqlite3.Connection, keep_days: int, now: datetime) -> list[str]:
    """The ids of the runs that started more than ``keep_days`` days before ``now``."""
    try:
        cutoff = (now - timedelta(days=keep_days)).isoformat()
    except OverflowError:
        return []  # before year 1: no run is that old
    return [row[0] for row in db.execute("SELECT id FROM runs WHERE started_at < ?", (cutoff,))]


def delete_runs(db: sqlite3.Connection, run_ids: list[str]) -> None:
    """Delete ``run_ids`` (at most :data:`PRUNE_BATCH`) and their rows, in the caller's
    transaction. Children first: the cascade then finds nothing left to delete."""
    ids = json.dumps(run_ids)
    for sql in _DELETES:
        db.execute(sql, (ids,))


def batches(run_ids: list[str]) -> list[list[str]]:
    """``run_ids`` cut into :data:`PRUNE_BATCH`-sized lists."""
    return [run_ids[i : i + PRUNE_BATCH] for i in range(0, len(run_ids), PRUNE_BATCH)]


def reclaim(db: sqlite3.Connection, path: Path) -> None:
    """``VACUUM`` when most of the file is free pages. Skipped when another connection
    holds a lock: the run is recorded, and the next prune tries again."""
    try:
        if worth_vacuuming(db):
            db.execute("VACUUM")
    except sqlite3.Error as exc:
        # locked: another connection reads; full: no room for the copy VACUUM writes (the
        # freed pages are reused all the same). The next prune tries again.
        if not is_locked(exc) and not is_full(exc):
            raise HistoryError(f"history database {path}: {exc}") from exc


def worth_vacuuming(db: sqlite3.Connection) -> bool:
    """Whether more than :data:`VACUUM_FREE_SHARE` of the file's pages are free."""
    pages = int(db.execute("PRAGMA page_count").fetchone()[0])
    free = int(db.execute("PRAGMA freelist_count").fetchone()[0])
    return pages > 0 and free > pages * VACUUM_FREE_SHARE
