"""The history database's schema: migration *n* (from 1) brings ``PRAGMA user_version``
n - 1 to n. Append, never edit: databases in the field were made by the earlier ones.
Also how a database is recognised as fleetaudit's, and brought up to date."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from fleetaudit.errors import HistoryError

_TABLES = frozenset({"runs", "host_status", "findings"})
"""The tables every schema version has: how a fleetaudit database is recognised."""

MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE runs (
        id TEXT PRIMARY KEY,
        started_at TEXT NOT NULL,
        finished_at TEXT NOT NULL,
        policy TEXT NOT NULL,
        fleetaudit_version TEXT NOT NULL,
        hosts INTEGER NOT NULL,
        hosts_failed INTEGER NOT NULL,
        findings INTEGER NOT NULL,
        exit_code INTEGER NOT NULL,
        document BLOB NOT NULL
    );
    CREATE INDEX runs_by_time ON runs (started_at);
    CREATE TABLE host_status (
        run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        host TEXT NOT NULL,
        status TEXT NOT NULL,
        error TEXT,
        PRIMARY KEY (run_id, host)
    );
    CREATE TABLE findings (
        run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        host TEXT NOT NULL,
        rule_id TEXT NOT NULL,
        severity TEXT NOT NULL,
        fingerprint TEXT NOT NULL,
        waived INTEGER NOT NULL,
        listener TEXT,
        message TEXT NOT NULL
    );
    CREATE INDEX findings_by_fingerprint ON findings (fingerprint);
    """,
    # 2: what the run covered (history/coverage.py), for "when a run last audited every
    # host". NULL in runs recorded before: unknown, so they never count as a full audit.
    """
    ALTER TABLE runs ADD COLUMN inventory TEXT;
    ALTER TABLE runs ADD COLUMN whole_inventory INTEGER;
    """,
    # 3: deleting a run (--keep-days) deletes its findings: without this index each
    # deleted run scanned the whole table, holding the write lock for seconds to minutes
    # on a year of history. host_status needs none (its primary key starts with run_id),
    # nor runs (referenced by its primary key); the default diff looks runs up by
    # inventory.
    """
    CREATE INDEX IF NOT EXISTS findings_by_run ON findings (run_id);
    CREATE INDEX IF NOT EXISTS runs_by_inventory ON runs (inventory, started_at);
    """,
    # 4: the shard runs a merged night was made of (merge --inventory). A shard run again
    # after a failure gets a new id, so the night merged again is recognised by the shards
    # it shares with its first merge, and replaces it instead of being recorded twice.
    """
    CREATE TABLE merged_shards (
        run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        shard_run_id TEXT NOT NULL,
        PRIMARY KEY (run_id, shard_run_id)
    );
    CREATE INDEX merged_shards_by_shard ON merged_shards (shard_run_id);
    """,
    # 5: the order runs were recorded in. `diff`, `history` and the last full success go
    # by it, not by start times: a run made while the clock was behind would hide behind
    # the runs before it, and one made while it was ahead would pass for the latest for
    # months. The runs already there are numbered by start time.
    """
    ALTER TABLE runs ADD COLUMN recorded INTEGER;
    CREATE TEMP TABLE recording_order AS
        SELECT id, row_number() OVER (ORDER BY started_at, id) AS position FROM runs;
    CREATE INDEX recording_order_by_id ON recording_order (id);
    UPDATE runs SET recorded =
        (SELECT position FROM recording_order WHERE recording_order.id = runs.id);
    DROP TABLE recording_order;
    CREATE INDEX runs_by_recording ON runs (recorded);
    CREATE INDEX runs_by_inventory_recording ON runs (inventory, recorded);
    """,
)

COVERAGE_SCHEMA = 2
"""The first schema version whose runs record their :class:`Coverage`."""
MERGES_SCHEMA = 4
"""The first schema version that records the shard runs of a merged night."""
RECORDED_SCHEMA = 5
"""The first schema version that numbers runs in the order they were recorded."""


def run_order(version: int) -> str:
    """The columns that order runs in a database of schema ``version``, oldest first: the
    order they were recorded in, or (not migrated yet: a read-only database) their start."""
    return "recorded" if version >= RECORDED_SCHEMA else "started_at, id"


def schema_version(db: sqlite3.Connection) -> int:
    """The database's ``PRAGMA user_version``: how many migrations it has had."""
    return int(db.execute("PRAGMA user_version").fetchone()[0])


def check_schema(db: sqlite3.Connection, path: Path) -> bool:
    """True when the file holds fleetaudit's tables, False when it holds no table at all
    (a new, empty database); HistoryError for anything else, which is never altered."""
    version, tables = _version_and_tables(db)
    if version > len(MIGRATIONS):
        raise HistoryError(f"{path} was written by a newer fleetaudit (schema {version}); upgrade")
    if not tables and version == 0:
        return False
    if version > 0 and "runs" in tables and not _TABLES <= tables:
        missing = ", ".join(sorted(_TABLES - tables))
        raise HistoryError(
            f"history database {path} lacks fleetaudit's table(s) {missing} (damaged: move "
            "it aside to start a new history, or give another --db)"
        )
    if version == 0 or not _TABLES <= tables:
        raise HistoryError(
            f"{path} is not a fleetaudit history database (it holds other tables); "
            "give another --db"
        )
    return True


def _version_and_tables(db: sqlite3.Connection) -> tuple[int, set[str]]:
    """The schema version and the tables, read in one transaction: another process
    migrating the file between two reads would show its new tables next to version 0."""
    db.execute("BEGIN")
    try:
        version = schema_version(db)
        rows = db.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    finally:
        if db.in_transaction:  # not after a failure SQLite rolled back itself (a full disk)
            db.execute("COMMIT")
    return version, {row[0] for row in rows}


def migrate(db: sqlite3.Connection) -> None:
    """Apply the migrations the database has not had, each in its own transaction. The
    version is read again under the write lock: two runs opening a new or older database
    at once (nightly shards merged twice, a cron run and a person) must not both apply
    one migration ("table runs already exists")."""
    for number, script in enumerate(MIGRATIONS, start=1):  # bounded by the migrations
        if schema_version(db) >= number:
            continue
        db.execute("BEGIN IMMEDIATE")
        try:
            if schema_version(db) < number:
                for statement in _statements(script):
                    db.execute(statement)
                db.execute(f"PRAGMA user_version = {number}")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")


def _statements(script: str) -> list[str]:
    """The statements of a migration (DDL without ``;`` inside, so splitting is exact)."""
    return [statement.strip() for statement in script.split(";") if statement.strip()]
