"""The history at a year's scale: indexed, bounded pruning, space given back, a lost
record explained, a private file."""

from __future__ import annotations

import sqlite3
import stat
from datetime import timedelta
from pathlib import Path

import pytest

from fleetaudit.errors import HistoryError
from fleetaudit.history import HistoryStore, connection, retention
from fleetaudit.history.coverage import Coverage
from fleetaudit.history.schema import MIGRATIONS
from tests.factories import T0, run_result, snapshot, sock

HOSTS = 60
FINDINGS_PER_HOST = 20


def _year(db: Path, runs: int) -> None:
    """``runs`` nightly runs, one a day up to T0, filled in bulk like real ones."""
    with HistoryStore(db) as store:
        store.save(run_result((snapshot("h0", sock("0.0.0.0", 22, "sshd")),)), 0)
    raw = sqlite3.connect(db)
    first = raw.execute("SELECT * FROM runs").fetchone()
    for table in ("findings", "host_status", "runs"):
        raw.execute(f"DELETE FROM {table}")
    for day in range(runs):
        run_id = f"{(T0 - timedelta(days=day)):%Y%m%dT%H%M%SZ}-{day:06x}"
        started = (T0 - timedelta(days=day)).isoformat()
        raw.execute(
            "INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (run_id, started, started, *first[3:-1], runs - day),  # recorded oldest first
        )
        raw.executemany(
            "INSERT INTO host_status VALUES (?, ?, 'ok', NULL)",
            [(run_id, f"h{h:04}") for h in range(HOSTS)],
        )
        raw.executemany(
            "INSERT INTO findings VALUES (?, ?, 'r', 'high', ?, 0, '0.0.0.0:1', ?)",
            [
                (run_id, f"h{h:04}", f"{day}-{h}-{n}", "x" * 200)
                for h in range(HOSTS)
                for n in range(FINDINGS_PER_HOST)
            ],
        )
    raw.commit()
    raw.close()


def _plan(db: sqlite3.Connection, sql: str, *params: object) -> str:
    return " | ".join(row[-1] for row in db.execute(f"EXPLAIN QUERY PLAN {sql}", params))


def test_an_old_database_is_migrated_and_deleting_a_run_uses_indexes(tmp_path: Path) -> None:
    db = tmp_path / "history.sqlite"
    raw = sqlite3.connect(db, isolation_level=None)
    for number, script in enumerate(MIGRATIONS[:2], start=1):  # as schema 2 left it
        raw.executescript(f"BEGIN; {script}; PRAGMA user_version = {number}; COMMIT;")
    raw.close()
    _year(db, 30)
    with HistoryStore(db):
        pass
    raw = sqlite3.connect(db)
    assert raw.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS) == 5
    for table in ("findings", "host_status"):
        plan = _plan(raw, f"DELETE FROM {table} WHERE run_id = ?", "x")
        assert "USING" in plan and "INDEX" in plan, plan
    for sql in retention._DELETES:
        plan = _plan(raw, sql, '["x"]')
        assert "SCAN" not in plan.replace("SCAN json_each", ""), plan
    sharing = (
        "SELECT run_id FROM merged_shards WHERE shard_run_id IN (SELECT value FROM json_each(?))"
    )
    assert "SCAN merged_shards" not in _plan(raw, sharing, '["x"]')
    raw.close()


def test_pruning_a_year_deletes_every_row_and_gives_the_space_back(tmp_path: Path) -> None:
    db = tmp_path / "history.sqlite"
    _year(db, 100)
    size = db.stat().st_size
    with HistoryStore(db) as store:
        deleted = store.prune(30, T0 + timedelta(hours=1))
    assert deleted == 70
    raw = sqlite3.connect(db)
    assert raw.execute("SELECT count(*) FROM runs").fetchone()[0] == 30
    for table in ("findings", "host_status"):
        orphans = raw.execute(
            f"SELECT count(*) FROM {table} WHERE run_id NOT IN (SELECT id FROM runs)"
        ).fetchone()[0]
        assert orphans == 0
    assert raw.execute("PRAGMA freelist_count").fetchone()[0] == 0
    raw.close()
    assert db.stat().st_size < size * 0.5, (size, db.stat().st_size)


def test_a_locked_database_says_the_run_was_not_recorded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "history.sqlite"
    saved = run_result((snapshot("db1", sock("0.0.0.0", 22, "sshd")),), run_id="r1")
    with HistoryStore(db) as store:
        store.save(saved, 0)
    monkeypatch.setattr(connection, "WRITE_WAIT_S", 0.2)  # the real wait is minutes
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with HistoryStore(db) as store, pytest.raises(HistoryError) as raised:
            store.save(saved.model_copy(update={"run_id": "r2"}), 0)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    message = str(raised.value)
    assert "is locked: another process (a fleetaudit run, or any program writing to it)" in message
    assert message.endswith("this run was not recorded")


def test_the_recording_write_waits_minutes() -> None:
    assert connection.WRITE_WAIT_S >= 120


def test_a_new_database_is_private_and_an_existing_one_keeps_its_mode(tmp_path: Path) -> None:
    db = tmp_path / "new" / "history.sqlite"
    with HistoryStore(db) as store:
        store.save(run_result((snapshot("db1"),)), 0, Coverage("-", True))
        wal = Path(f"{db}-wal")
        assert stat.S_IMODE(wal.stat().st_mode) == 0o600
    assert stat.S_IMODE(db.stat().st_mode) == 0o600
    db.chmod(0o640)
    with HistoryStore(db) as store:
        store.save(run_result((snapshot("db1"),), run_id="r2"), 0)
    assert stat.S_IMODE(db.stat().st_mode) == 0o640


def test_keep_days_beyond_the_calendar_deletes_nothing(tmp_path: Path) -> None:
    db = tmp_path / "history.sqlite"
    with HistoryStore(db) as store:
        store.save(run_result((snapshot("db1"),)), 0)
        assert store.prune(999_999_999, T0) == 0
        assert len(store.runs()) == 1
