"""A history whose filesystem is full, or which is damaged, says so and what to do: QA's
full tmpfs printed "cannot rollback - no transaction is active", pruning freed nothing,
and no later night was recorded; a missing table read as "another program's database"."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from fleetaudit.errors import HistoryError, HistoryFullError
from fleetaudit.history import HistoryStore
from fleetaudit.history.coverage import Coverage
from fleetaudit.model.run import RunResult
from tests.factories import T0, run_result, snapshot, sock
from tests.runcli import fleetaudit

FLEET = tuple(
    snapshot(f"h{n:03}", *(sock("0.0.0.0", port, f"svc{port}") for port in range(8000, 8010)))
    for n in range(40)
)


def night(day: int) -> RunResult:
    when = T0 + timedelta(days=day)
    return run_result(FLEET, (), run_id=f"{when:%Y%m%dT%H%M%SZ}-{day:06x}", started_at=when,
                      finished_at=when)  # fmt: skip


def _no_room_to_grow(store: HistoryStore) -> None:
    """The database may not grow by a page: the full disk, for SQLite (SQLITE_FULL)."""
    pages = store._db.execute("PRAGMA page_count").fetchone()[0]
    store._db.execute(f"PRAGMA max_page_count = {pages}")


def test_a_full_disk_is_said_as_such_and_leaves_the_history_whole(tmp_path: Path) -> None:
    with HistoryStore(tmp_path / "h.sqlite") as store:
        store.save(night(1), 0, Coverage("/srv/prod.yaml", whole=True))
        _no_room_to_grow(store)
        with pytest.raises(HistoryFullError) as caught:
            store.save(night(2), 0, Coverage("/srv/prod.yaml", whole=True))
        assert "no room left on its filesystem" in str(caught.value)
        assert "this run was not recorded: free space there" in str(caught.value)
        assert "cannot rollback" not in str(caught.value)
        assert [row.id for row in store.runs()] == [night(1).run_id]


def test_keep_days_makes_room_for_the_run_before_recording_it(tmp_path: Path) -> None:
    """Pruning ran only after a run was recorded: on a full disk, never again."""
    coverage = Coverage("/srv/prod.yaml", whole=True)
    with HistoryStore(tmp_path / "h.sqlite") as store:
        for day in range(1, 41):
            store.save(night(day), 0, coverage)
        _no_room_to_grow(store)
        now = night(41).started_at
        with pytest.raises(HistoryFullError):  # without --keep-days: nothing to delete
            store.save_making_room(night(41), 0, coverage, keep_days=None, now=now)
        deleted = store.save_making_room(night(41), 0, coverage, keep_days=30, now=now)
        # days 1-9: ages count from a day after the second newest run (day 39), the newest
        # being what the next diff compares with
        assert deleted == 9
        assert store.runs(1)[0].id == night(41).run_id


def test_a_database_missing_one_of_its_tables_is_called_damaged(tmp_path: Path) -> None:
    db = tmp_path / "h.sqlite"
    with HistoryStore(db) as store:
        store.save(night(1), 0, Coverage("/srv/prod.yaml", whole=True))
    with sqlite3.connect(db) as raw:
        raw.execute("DROP TABLE findings")
    raw.close()
    with pytest.raises(HistoryError) as caught:
        HistoryStore.open_read_only(db)
    message = str(caught.value)
    assert "lacks fleetaudit's table(s) findings (damaged: move it aside" in message
    assert "other tables" not in message


def test_damage_met_by_a_query_says_what_to_do(tmp_path: Path) -> None:
    """QA: pages zeroed inside the file; the run recorded, and the first sign was a diff
    of an older night failing with a bare "database disk image is malformed"."""
    db = tmp_path / "h.sqlite"
    with HistoryStore(db) as store:
        for day in range(1, 30):
            store.save(night(day), 0, Coverage("/srv/prod.yaml", whole=True))
    size = db.stat().st_size
    with db.open("r+b") as damaged:
        damaged.seek(size // 2)
        damaged.write(b"\0" * 8192)
    done = fleetaudit("diff", night(2).run_id, night(3).run_id, "--db", db, state=tmp_path)
    assert done.returncode == 2, done.stdout
    assert "malformed (damaged: move it aside to start a new history" in done.stderr


def test_keep_days_that_cannot_make_room_says_so(tmp_path: Path) -> None:
    coverage = Coverage("/srv/prod.yaml", whole=True)
    with HistoryStore(tmp_path / "h.sqlite") as store:
        for day in range(1, 5):  # nothing older than 30 days to delete
            store.save(night(day), 0, coverage)
        _no_room_to_grow(store)
        now = night(5).started_at
        with pytest.raises(HistoryFullError) as caught:
            store.save_making_room(night(5), 0, coverage, keep_days=30, now=now)
        assert "runs older than 30 days (--keep-days) did not make room" in str(caught.value)
        with pytest.raises(HistoryFullError) as caught:
            store.save_making_room(night(5), 0, coverage, keep_days=None, now=now)
        assert str(caught.value).endswith("(or --keep-days: old runs deleted first)")


@pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("unshare") is None,
    reason="needs root and unshare to mount a small tmpfs of the test's own",
)
def test_a_filesystem_with_no_space_left_is_named(tmp_path: Path) -> None:
    """QA: with 0 bytes free, SQLite said only "disk I/O error", then "cannot commit - no
    transaction is active". The tmpfs lives in a mount namespace of its own, gone with it."""
    mount = tmp_path / "full"
    mount.mkdir()
    with HistoryStore(tmp_path / "h.sqlite") as store:
        store.save(night(1), 0, Coverage(str(tmp_path / "inv.yaml"), whole=True))
    (tmp_path / "inv.yaml").write_text("hosts:\n  localhost: {transport: local}\n")
    script = (
        'mount -t tmpfs -o size=1m fleetaudit-test "$0" && cp "$1" "$0/h.sqlite" && shift && '
        '{ dd if=/dev/zero of="$0/filler" bs=4k 2>/dev/null; true; } && exec "$@"'
    )
    done = subprocess.run(
        ["unshare", "--mount", "sh", "-c", script, str(mount), str(tmp_path / "h.sqlite"),
         sys.executable, "-m", "fleetaudit", "run", str(tmp_path / "inv.yaml"), "--db",
         str(mount / "h.sqlite"), "--keep-days", "30", "-o", f"json={tmp_path}/r.json"],
        capture_output=True, text=True, timeout=120, check=False,
        env={**os.environ, "XDG_STATE_HOME": str(tmp_path)},
    )  # fmt: skip
    if "mount" in done.stderr and "fleetaudit" not in done.stderr:
        pytest.skip(f"no tmpfs mount here: {done.stderr}")
    assert done.returncode == 2, done.stderr
    assert "its filesystem has no space left: free some there" in done.stderr, done.stderr
    assert "no transaction is active" not in done.stderr
    assert (tmp_path / "r.json").exists()  # the night's report is written all the same
