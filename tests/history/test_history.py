"""History database and run diff."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from fleetaudit.errors import HistoryError
from fleetaudit.history import HistoryStore, diff_runs
from fleetaudit.history.schema import MIGRATIONS
from fleetaudit.model.enums import HostStatus, Tool
from fleetaudit.model.run import RunResult
from tests.factories import T0, finding, run_result, snapshot, sock


def run(
    run_id: str, *hosts: object, findings: tuple[object, ...] = (), when: datetime = T0
) -> RunResult:
    return run_result(hosts, findings, run_id=run_id, started_at=when, finished_at=when)  # type: ignore[arg-type]


MYSQL_LOCAL = sock("127.0.0.1", 3306, "mysqld", pid=10)
MYSQL_RESTARTED = sock("127.0.0.1", 3306, "mysqld", pid=99)
MYSQL_ANY = sock("0.0.0.0", 3306, "mysqld", pid=99)
SSHD = sock("0.0.0.0", 22, "sshd")


def test_the_run_just_recorded_is_spared_by_its_own_pruning(tmp_path: Path) -> None:
    # merge of shard files from a month ago with --keep-days 7: recorded, and kept
    month_old = run("20261025T031500Z-cccccc", snapshot("db1", SSHD), when=T0 - timedelta(days=30))
    with HistoryStore(tmp_path / "h.sqlite") as store:
        store.save(month_old, 0)
        assert store.prune(7, T0, spare=month_old.run_id) == 0
        assert [r.id for r in store.runs()] == [month_old.run_id]
        assert store.prune(7, T0) == 1


def test_store_roundtrip_list_and_prune(tmp_path: Path) -> None:
    db = tmp_path / "state" / "history.sqlite"
    old = run("20261101T000000Z-aaaaaa", snapshot("db1", SSHD), when=T0 - timedelta(days=30))
    new = run("20261124T031500Z-bbbbbb", snapshot("db1", SSHD, MYSQL_ANY),
              findings=(finding("db1", MYSQL_ANY),))  # fmt: skip
    with HistoryStore(db) as store:
        store.save(old, 0)
        store.save(new, 1)
        assert [r.id for r in store.runs()] == [new.run_id, old.run_id]
        assert store.load("20261124") == new
        assert store.prune(7, T0) == 1
        assert [r.id for r in store.runs()] == [new.run_id]
        with pytest.raises(HistoryError, match="no run"):
            store.load("nope")
    with sqlite3.connect(db) as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert raw.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
        assert raw.execute("SELECT count(*) FROM findings").fetchone()[0] == 1


def test_a_failed_save_leaves_nothing_behind(tmp_path: Path) -> None:
    db = tmp_path / "history.sqlite"
    first = run("r1", snapshot("db1", SSHD))
    with HistoryStore(db) as store:
        store.save(first, 0)
        with pytest.raises(HistoryError):
            store.save(first, 0)  # same id: the transaction rolls back
        assert len(store.runs()) == 1
    with sqlite3.connect(db) as raw:
        assert raw.execute("SELECT count(*) FROM host_status").fetchone()[0] == 1


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "history.sqlite"
    with sqlite3.connect(db) as raw:
        raw.execute("PRAGMA user_version = 99")
    with pytest.raises(HistoryError, match="newer fleetaudit"):
        HistoryStore(db)


def test_restart_is_not_a_change_but_moving_to_any_address_is() -> None:
    before = run("a", snapshot("db1", SSHD, MYSQL_LOCAL))
    restarted = run("b", snapshot("db1", SSHD, MYSQL_RESTARTED))
    assert diff_runs(before, restarted).empty
    moved = run("c", snapshot("db1", SSHD, MYSQL_ANY), findings=(finding("db1", MYSQL_ANY),))
    changes = diff_runs(before, moved)
    [host] = changes.hosts
    assert [k.endpoint for k in host.new_listeners] == ["0.0.0.0:3306"]
    assert [k.endpoint for k in host.removed_listeners] == ["127.0.0.1:3306"]
    assert [f.host for f in changes.new_findings] == ["db1"]


def test_restart_on_a_netstat_host_is_not_a_change_where_the_cut_moves() -> None:
    """netstat cuts 'PID/redis-server 127.0.0.1:6379' at 19 characters: a longer PID after
    the restart moves the cut, which must change neither the listener nor the finding."""
    old = sock("0.0.0.0", 6379, "redis-server 1", tool=Tool.NETSTAT, pid=3540)
    new = sock("0.0.0.0", 6379, "redis-server", tool=Tool.NETSTAT, pid=35400)
    before = run("a", snapshot("cache1", old), findings=(finding("cache1", old),))
    after = run("b", snapshot("cache1", new), findings=(finding("cache1", new),))
    assert diff_runs(before, after).empty
    renamed = sock("0.0.0.0", 6379, "keydb-server 1", tool=Tool.NETSTAT, pid=3540)
    assert not diff_runs(before, run("c", snapshot("cache1", renamed))).empty


def test_a_host_that_became_unreachable_has_no_resolved_findings() -> None:
    before = run("a", snapshot("db1", MYSQL_ANY), findings=(finding("db1", MYSQL_ANY),))
    down = snapshot(
        "db1", status=HostStatus.UNREACHABLE, error="refused", tool=None, privilege=None
    )
    changes = diff_runs(before, run("b", down))
    assert changes.resolved_findings == ()
    [host] = changes.hosts
    assert (host.status_before, host.status_after) == (HostStatus.OK, HostStatus.UNREACHABLE)
    fixed = diff_runs(before, run("c", snapshot("db1", MYSQL_LOCAL)))
    assert [f.host for f in fixed.resolved_findings] == ["db1"]


def test_fields_added_since_0_3_are_kept_out_of_the_stored_run(tmp_path: Path) -> None:
    """QA: after a rollback to 0.3.0, its `diff` stopped with an internal error on every
    run 0.4.0 had recorded: 0.3.0 refuses a field it does not know. Such fields are not
    stored (nothing reads them back: the sockets they explain are stored as owner unknown)."""
    import json
    import zlib

    hardened = snapshot("hardened1", SSHD).model_copy(update={"hidden_processes": 2})
    mixed = run("20261124T041500Z-bbbbbb", snapshot("db1", SSHD), hardened)
    db = tmp_path / "h.sqlite"
    with HistoryStore(db) as store:
        store.save(mixed, 0)
        loaded = store.load(mixed.run_id)
    assert [host.hidden_processes for host in loaded.snapshots] == [0, 0]
    assert loaded.snapshots[1].sockets == hardened.sockets
    with sqlite3.connect(db) as raw:
        [[document]] = raw.execute("SELECT document FROM runs").fetchall()
    stored = json.loads(zlib.decompress(document))
    assert all("hidden_processes" not in host for host in stored["snapshots"])


def test_a_diff_across_releases_says_so() -> None:
    """QA: on the upgrade night an unchanged listener of a host without ss read as a
    finding resolved and a new one (0.4.0 names its process by comm), and nothing said the
    older run was made by 0.3.0."""
    from fleetaudit.history.render import render_diff
    from fleetaudit.report import DiffFormat

    before = run("20261124T031500Z-aaaaaa", snapshot("db1", SSHD), when=T0 - timedelta(days=1))
    after = run("20261124T041500Z-bbbbbb", snapshot("db1", SSHD))
    upgraded = diff_runs(before.model_copy(update={"fleetaudit_version": "0.3.0"}), after)
    note = f"made by different fleetaudit releases (0.3.0 -> {after.fleetaudit_version})"
    assert note in render_diff(upgraded, DiffFormat.TABLE)
    assert "- **Releases:** made by different fleetaudit releases (0\\.3\\.0 -\\> " in (
        render_diff(upgraded, DiffFormat.MARKDOWN)
    )
    assert "releases" not in render_diff(diff_runs(before, after), DiffFormat.TABLE)
