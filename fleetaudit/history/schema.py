"""The history database's schema: migration *n* (from 1) brings ``PRAGMA user_version``
n - 1 to n. Append, never edit: databases in the field were made by the earlier ones."""

from __future__ import annotations

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
)
