"""A history file whose mode changed: reading it while it is read-only must leave nothing
behind that stops its owner's next run from recording.

Run without CAP_DAC_OVERRIDE (``setpriv``), so that file modes bind the owner as they bind
any user who is not root."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("setpriv") is None, reason="needs root and setpriv"
)


def _as_owner_without_override(*args: str | Path, state: Path) -> subprocess.CompletedProcess[str]:
    """``python -m fleetaudit ARGS`` as this user, stripped of every capability."""
    return subprocess.run(
        ["setpriv", "--inh-caps=-all", "--bounding-set=-all",
         sys.executable, "-m", "fleetaudit", *map(str, args)],
        capture_output=True, text=True, timeout=120, check=False,
        env={**os.environ, "XDG_STATE_HOME": str(state)},
    )  # fmt: skip


def _night(tmp_path: Path, db: Path) -> subprocess.CompletedProcess[str]:
    inventory = tmp_path / "inventory.yaml"
    inventory.write_text("hosts:\n  localhost: {transport: local}\n")
    return _as_owner_without_override(
        "run", inventory, "--db", db, "--fail-on", "critical", "-o", f"json={tmp_path}/r.json",
        state=tmp_path,
    )  # fmt: skip


def _runs(db: Path) -> int:
    with sqlite3.connect(db) as history:
        return int(history.execute("SELECT count(*) FROM runs").fetchone()[0])


def test_reading_a_read_only_history_does_not_stop_the_next_recording(tmp_path: Path) -> None:
    db = tmp_path / "h.sqlite"
    assert _night(tmp_path, db).returncode == 0
    db.chmod(0o400)
    read = _as_owner_without_override("history", "--db", db, state=tmp_path)
    assert read.returncode == 0, read.stderr
    assert not Path(f"{db}-shm").exists() and not Path(f"{db}-wal").exists()
    db.chmod(0o600)
    second = _night(tmp_path, db)
    assert second.returncode == 0, second.stderr
    assert _runs(db) == 2


def test_an_unwritable_shm_file_is_named_before_the_audit(tmp_path: Path) -> None:
    """Left by another program (sqlite3) that read the file while it was read-only."""
    db = tmp_path / "h.sqlite"
    assert _night(tmp_path, db).returncode == 0
    shm = Path(f"{db}-shm")
    shm.write_bytes(b"")
    shm.chmod(0o400)
    report = (tmp_path / "r.json").stat().st_mtime_ns
    refused = _night(tmp_path, db)
    assert refused.returncode == 2
    assert f"{db}: h.sqlite-shm beside it is not writable" in refused.stderr
    assert (tmp_path / "r.json").stat().st_mtime_ns == report, "refused before the audit"
    assert _runs(db) == 1


def test_a_damaged_history_still_gets_the_night_audited_and_reported(tmp_path: Path) -> None:
    """ "The report is written on 1 and 2 as well": a history that cannot be read must cost
    the run its record (exit 2), not the night's audit and reports."""
    db = tmp_path / "h.sqlite"
    assert _night(tmp_path, db).returncode == 0
    Path(f"{db}-wal").unlink(missing_ok=True)
    Path(f"{db}-shm").unlink(missing_ok=True)
    damaged = bytearray(db.read_bytes())
    damaged[100:] = b"\xff" * (len(damaged) - 100)  # the header stays, the pages go
    db.write_bytes(bytes(damaged))
    (tmp_path / "r.json").unlink()
    done = _night(tmp_path, db)
    assert done.returncode == 2, done.stderr
    assert "going on: the reports are written, the run cannot be recorded" in done.stderr
    assert "(damaged: move it aside to start a new history, or give another --db)" in (done.stderr)
    assert "exit 2: the history could not record this run" in done.stderr
    assert (tmp_path / "r.json").exists()


def test_a_db_that_is_no_sqlite_file_is_not_called_damaged(tmp_path: Path) -> None:
    """QA: `--db ~/.ssh/known_hosts` (meant for --known-hosts) was called a damaged history
    to move aside; it is left alone, and the message asks whether --db is right."""
    db = tmp_path / "known_hosts"
    db.write_text("[127.0.0.1]:2222 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHmPvmh3\n")
    before = db.read_bytes()
    done = _night(tmp_path, db)
    assert done.returncode == 2, done.stderr
    assert "it is no SQLite file at all: is --db the history's path?" in done.stderr
    assert "(damaged:" not in done.stderr
    assert db.read_bytes() == before
    # QA: a file of one byte (`echo > h.sqlite` leaves one) SQLite took for an empty
    # database, and replaced it with a new history without a word
    db.write_bytes(b"\n")
    done = _night(tmp_path, db)
    assert done.returncode == 2, done.stderr
    assert "it is no SQLite file at all" in done.stderr
    assert db.read_bytes() == b"\n"


def test_an_emptied_history_file_is_said_to_start_a_new_history(tmp_path: Path) -> None:
    db = tmp_path / "h.sqlite"
    assert _night(tmp_path, db).returncode == 0
    db.write_bytes(b"")
    Path(f"{db}-wal").unlink(missing_ok=True)
    Path(f"{db}-shm").unlink(missing_ok=True)
    done = _night(tmp_path, db)
    assert done.returncode == 0, done.stderr
    assert f"history database {db} is an empty file: the runs recorded in it are gone" in (
        done.stderr
    )
    assert _runs(db) == 1
