"""Reading the history never creates or alters a file; a foreign database is refused."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from fleetaudit.errors import HistoryError
from fleetaudit.history import HistoryStore
from tests.factories import T0, run_result, snapshot, sock


def _foreign(path: Path) -> bytes:
    """Another program's SQLite database at ``path``; its bytes, to compare afterwards."""
    with sqlite3.connect(path) as raw:
        raw.execute("CREATE TABLE accounts (id INTEGER PRIMARY KEY, name TEXT)")
        raw.execute("INSERT INTO accounts (name) VALUES ('alice')")
    raw.close()
    return path.read_bytes()


def test_reading_a_missing_database_creates_nothing(tmp_path: Path) -> None:
    db = tmp_path / "no" / "such" / "dir" / "history.sqlite"
    with pytest.raises(HistoryError, match="no history database at .*no run recorded yet"):
        HistoryStore.open_read_only(db)
    assert not (tmp_path / "no").exists()


@pytest.mark.parametrize("read_only", [False, True])
def test_a_foreign_database_is_refused_and_left_alone(tmp_path: Path, read_only: bool) -> None:
    db = tmp_path / "other.sqlite"
    before = _foreign(db)
    with pytest.raises(HistoryError, match="other.sqlite is not a fleetaudit history database"):
        HistoryStore.open_read_only(db) if read_only else HistoryStore(db)
    assert db.read_bytes() == before
    with sqlite3.connect(db) as raw:
        tables = {r[0] for r in raw.execute("SELECT name FROM sqlite_master")}
        assert tables == {"accounts"}
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    raw.close()


def test_read_only_store_reads_but_cannot_write(tmp_path: Path) -> None:
    db = tmp_path / "history.sqlite"
    saved = run_result((snapshot("db1", sock("0.0.0.0", 22, "sshd")),), run_id="r1")
    with HistoryStore(db) as store:
        store.save(saved, 0)
    with HistoryStore.open_read_only(db) as store:
        assert [r.id for r in store.runs()] == ["r1"]
        assert store.load("r1") == saved
        with pytest.raises(HistoryError, match="readonly"):
            store.save(saved.model_copy(update={"run_id": "r2", "started_at": T0}), 0)


def test_an_empty_file_reads_as_an_empty_history_and_run_can_fill_it(tmp_path: Path) -> None:
    db = tmp_path / "history.sqlite"
    db.touch()
    with HistoryStore.open_read_only(db) as store:
        assert store.runs() == []
        with pytest.raises(HistoryError, match="no run"):
            store.load("r1")
    assert db.stat().st_size == 0
    with HistoryStore(db) as store:
        assert store.runs() == []


def test_whether_a_run_could_be_recorded_is_checked_without_creating_anything(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fleetaudit.history.connection import check_recordable

    check_recordable(tmp_path / "new" / "dirs" / "history.sqlite")
    monkeypatch.chdir(tmp_path)
    check_recordable(Path("history.sqlite"))  # in the working directory
    assert list(tmp_path.iterdir()) == [], "nothing is made before the run is recorded"
    with pytest.raises(HistoryError, match="history.sqlite: it is a directory"):
        (tmp_path / "history.sqlite").mkdir()
        check_recordable(tmp_path / "history.sqlite")
    (tmp_path / "file").write_text("")
    with pytest.raises(HistoryError, match=r"/file is not a directory \(give another --db\)"):
        check_recordable(tmp_path / "file" / "sub" / "history.sqlite")


def test_runs_recording_at_once_in_a_new_database_all_record_and_one_night_stays_one(
    tmp_path: Path,
) -> None:
    """Two merges of one night at once (a cron job and a person, or a retried job), or the
    first runs of a new database: each used to fail now and then (a migration applied
    twice, WAL switched under another connection, a replacement decided before the write
    lock). Threads stand in for processes: each has its own SQLite connection."""
    import threading

    from fleetaudit.history.coverage import Coverage

    night = run_result((snapshot("web1", sock(port=22)),), run_id="20261127T031500Z-9f2a1b")
    errors: list[BaseException] = []

    def record(path: Path, barrier: threading.Barrier) -> None:
        barrier.wait(timeout=30)
        try:
            with HistoryStore(path) as store:
                store.save(night, 0, Coverage("/prod.yaml", whole=True), shards=["s1", "s2"])
        except BaseException as exc:  # reported below, with the others
            errors.append(exc)

    for attempt in range(25):  # the races showed in about one attempt in ten
        path = tmp_path / f"h{attempt}.sqlite"
        barrier = threading.Barrier(3)
        threads = [threading.Thread(target=record, args=(path, barrier)) for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        with HistoryStore.open_read_only(path) as store:
            assert store.recorded([night.run_id]) == [night.run_id]
            assert [row.id for row in store.runs()] == [night.run_id]
    assert errors == []


def test_a_symlinked_database_is_checked_and_created_where_it_points(tmp_path: Path) -> None:
    from fleetaudit.history.connection import check_recordable

    (tmp_path / "null").symlink_to("/dev/null")
    with pytest.raises(HistoryError, match="null: it is not a regular file"):
        check_recordable(tmp_path / "null")
    (tmp_path / "loop1").symlink_to(tmp_path / "loop2")
    (tmp_path / "loop2").symlink_to(tmp_path / "loop1")
    with pytest.raises(HistoryError, match="loop1: .*[Ss]ymlink loop"):
        check_recordable(tmp_path / "loop1")
    # A symlink to a file yet to be made, in a directory yet to be made: SQLite follows it,
    # so the check and the recording do too (0600, as for any new database).
    (tmp_path / "db").symlink_to(tmp_path / "state" / "fleet" / "history.sqlite")
    (tmp_path / "up").symlink_to(tmp_path / "elsewhere")
    for link in (tmp_path / "db", tmp_path / "up" / "sub" / "history.sqlite"):
        check_recordable(link)
        with HistoryStore(link) as store:
            store.save(run_result((snapshot("web1", sock(port=22)),)), 0)
        assert link.resolve().stat().st_mode & 0o777 == 0o600
    for made in (tmp_path / "state", tmp_path / "state" / "fleet", tmp_path / "elsewhere"):
        assert made.stat().st_mode & 0o777 == 0o700, f"{made}: every directory made is private"
