"""`history` and `diff` on real history files: option bounds, a read-only directory, and
the default diff skipping an ad-hoc --limit run."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from fleetaudit.history import HistoryStore
from fleetaudit.history.coverage import Coverage
from tests.factories import T0, run_result, snapshot, sock
from tests.runcli import fleetaudit

HOSTS = [f"h{n:04}" for n in range(5)]


def _record(
    db: Path,
    run_id: str,
    day: int,
    hosts: list[str],
    whole: bool,
    inventory: str = "/etc/fleetaudit/prod.yaml",
) -> None:
    run = run_result(
        tuple(snapshot(h, sock("0.0.0.0", 22, "sshd")) for h in hosts),
        run_id=run_id,
        started_at=T0 + timedelta(days=day),
        finished_at=T0 + timedelta(days=day),
    )
    with HistoryStore(db) as store:
        store.save(run, 0, Coverage(inventory, whole))


def test_default_diff_skips_an_ad_hoc_limit_run(tmp_path: Path) -> None:
    db = tmp_path / "history.sqlite"
    _record(db, "20261124T031500Z-aaaaaa", 0, HOSTS, whole=True)
    _record(db, "20261124T120000Z-bbbbbb", 1, ["h0003"], whole=False)
    _record(db, "20261125T031500Z-cccccc", 2, HOSTS, whole=True)
    done = fleetaudit("diff", "--db", db)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "DIFF 20261124T031500Z-aaaaaa" in done.stdout
    assert "(absent)" not in done.stdout
    assert "1 run(s) in between skipped" in done.stdout
    md = fleetaudit("diff", "--db", db, "--format", "markdown")
    assert "**Compared with:**" in md.stdout


def test_default_diff_of_a_limit_run_compares_with_a_run_that_covered_its_hosts(
    tmp_path: Path,
) -> None:
    db = tmp_path / "history.sqlite"
    _record(db, "20261124T031500Z-aaaaaa", 0, HOSTS, whole=True)
    _record(db, "20261124T120000Z-bbbbbb", 1, ["h0001"], whole=False)
    _record(db, "20261124T130000Z-dddddd", 2, ["h0003"], whole=False)
    done = fleetaudit("diff", "--db", db)
    # Hosts the --limit run did not select read "ok -> (absent)"; h0003 is compared with
    # a run that audited it, not with the other --limit run's "(absent)".
    assert "DIFF 20261124T031500Z-aaaaaa" in done.stdout, done.stdout + done.stderr
    assert "h0003" not in done.stdout


def test_default_diff_of_the_first_run_of_an_inventory_is_refused(tmp_path: Path) -> None:
    """It was compared with the run before, of another inventory: every host of one read
    as gone and every host of the other as new, the header naming no inventory (QA)."""
    db = tmp_path / "history.sqlite"
    _record(db, "20261124T031500Z-aaaaaa", 0, HOSTS, whole=True)
    _record(db, "20261124T120000Z-bbbbbb", 1, ["lab1"], whole=True, inventory="/srv/lab.yaml")
    done = fleetaudit("diff", "--db", db)
    assert done.returncode == 2, done.stdout
    assert "20261124T120000Z-bbbbbb, is the first recorded of /srv/lab.yaml" in done.stderr
    assert "give two runs to compare" in done.stderr
    named = fleetaudit("diff", "20261124T031500Z-aaaaaa", "20261124T120000Z-bbbbbb", "--db", db)
    assert named.returncode == 1, named.stderr  # still possible when asked for: changes
    assert "lab1" in named.stdout


def test_diff_of_one_run_compares_it_with_the_latest_run_of_its_inventory(
    tmp_path: Path,
) -> None:
    """`diff RUN` took the latest run, of another inventory here: every host of one read
    as gone, every host of the other as new, and the header blamed --limit (QA)."""
    db = tmp_path / "history.sqlite"
    _record(db, "20261124T031500Z-aaaaaa", 0, HOSTS, whole=True)
    _record(db, "20261125T031500Z-cccccc", 1, HOSTS, whole=True)
    _record(db, "20261125T120000Z-bbbbbb", 2, ["lab1"], whole=True, inventory="/srv/lab.yaml")
    done = fleetaudit("diff", "aaaaaa", "--db", db)
    assert done.returncode == 0, done.stdout + done.stderr  # the same five hosts, unchanged
    flat = " ".join(done.stdout.split())
    assert "exit 0) -> 20261125T031500Z-cccccc" in flat, flat
    assert "the latest run of /etc/fleetaudit/prod.yaml (the latest run," in flat
    latest = fleetaudit("diff", "cccccc", "--db", db)
    assert latest.returncode == 2, latest.stdout
    assert "cccccc is the latest run of /etc/fleetaudit/prod.yaml" in latest.stderr
    named = fleetaudit("diff", "aaaaaa", "bbbbbb", "--db", db)
    assert named.returncode == 1, named.stderr  # compared, as asked, saying what it is
    flat = " ".join(named.stdout.split())
    assert "the runs are of different inventories (/etc/fleetaudit/prod.yaml, then " in flat
    # the latest run itself was compared with itself: "no change", exit 0 (QA)
    itself = fleetaudit("diff", "bbbbbb", "--db", db)
    assert itself.returncode == 2 and "bbbbbb is the latest run: nothing later" in itself.stderr
    # a report file of a recorded run is compared as that run is (QA: with the latest run
    # of another inventory, the header blaming --limit)
    with HistoryStore(db) as store:
        report = tmp_path / "a.json"
        report.write_text(store.load("aaaaaa").model_dump_json())
    from_file = fleetaudit("diff", report, "--db", db)
    assert from_file.returncode == 0, from_file.stdout + from_file.stderr
    assert "UTC) -> 20261125T031500Z-cccccc" in " ".join(from_file.stdout.split())


def test_default_diff_without_an_earlier_run_as_wide_says_so(tmp_path: Path) -> None:
    db = tmp_path / "history.sqlite"
    _record(db, "20261124T031500Z-aaaaaa", 0, HOSTS[:2], whole=False)
    _record(db, "20261124T120000Z-bbbbbb", 1, ["lab1"], whole=True, inventory="/srv/lab.yaml")
    _record(db, "20261125T031500Z-cccccc", 2, HOSTS, whole=True)
    done = fleetaudit("diff", "--db", db)
    assert done.returncode == 1, done.stdout + done.stderr  # three hosts read as new
    flat = " ".join(done.stdout.split())
    assert "DIFF 20261124T031500Z-aaaaaa" in flat  # not the lab run just before
    assert "none covered every host the latest run did" in flat


@pytest.mark.parametrize(
    "args",
    [
        ("history", "--limit", "99999999999999999999"),
        ("run", "inventory.yaml", "--keep-days", "999999999"),
    ],
)
def test_huge_counts_are_usage_errors(tmp_path: Path, args: tuple[str, ...]) -> None:
    db = tmp_path / "history.sqlite"
    _record(db, "20261124T031500Z-aaaaaa", 0, HOSTS, whole=True)
    done = fleetaudit(*args, "--db", db)
    assert done.returncode == 2
    assert "should be less than or equal to" in done.stderr and "Traceback" not in done.stderr


def _in_read_only_dir(directory: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``fleetaudit ARGS`` with ``directory`` bind-mounted read-only over itself, in a
    private mount namespace (the tests run as root, whom file modes do not stop)."""
    script = 'mount --bind "$0" "$0" && mount -o remount,bind,ro "$0" && exec "$@"'
    return subprocess.run(
        ["unshare", "--mount", "sh", "-c", script, str(directory),
         sys.executable, "-m", "fleetaudit", *args],
        capture_output=True, text=True, timeout=120, check=False,
        env={**os.environ, "XDG_STATE_HOME": str(directory.parent / "state")},
    )  # fmt: skip


needs_unshare = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("unshare") is None,
    reason="needs root and unshare for a read-only bind mount",
)


@needs_unshare
def test_history_and_diff_read_a_database_in_a_read_only_directory(tmp_path: Path) -> None:
    backup = tmp_path / "backup"
    backup.mkdir()
    db = backup / "h.sqlite"
    _record(db, "20261124T031500Z-aaaaaa", 0, HOSTS, whole=True)
    _record(db, "20261125T031500Z-cccccc", 1, HOSTS[:4], whole=True)
    assert not Path(f"{db}-shm").exists()  # the last writer removed -wal and -shm
    listed = _in_read_only_dir(backup, "history", "--db", str(db))
    if "mount" in listed.stderr and listed.returncode != 2:
        pytest.skip(f"no read-only bind mount here: {listed.stderr}")
    assert listed.returncode == 0, listed.stderr
    assert "20261125T031500Z-cccccc" in listed.stdout
    diffed = _in_read_only_dir(backup, "diff", "--db", str(db))
    assert diffed.returncode == 1, diffed.stderr
    assert "h0004" in diffed.stdout
    assert sorted(p.name for p in backup.iterdir()) == ["h.sqlite"]


@needs_unshare
def test_a_wal_left_in_a_read_only_directory_is_explained(tmp_path: Path) -> None:
    backup = tmp_path / "backup"
    backup.mkdir()
    db = backup / "h.sqlite"
    _record(db, "20261124T031500Z-aaaaaa", 0, HOSTS, whole=True)
    writer = sqlite3.connect(db)  # a writer that is still connected: -wal and -shm exist
    writer.execute("CREATE TABLE IF NOT EXISTS keep (x)")
    writer.commit()
    Path(f"{db}-shm").unlink()  # as a copy without the -shm would be
    try:
        listed = _in_read_only_dir(backup, "history", "--db", str(db))
    finally:
        writer.close()
    assert listed.returncode == 2
    assert "directory is not writable" in listed.stderr and "h.sqlite-shm" in listed.stderr
