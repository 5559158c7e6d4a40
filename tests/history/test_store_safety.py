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
