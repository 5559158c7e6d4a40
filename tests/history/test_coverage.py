"""Only a run that selected every host of its inventory is a "full success" in the history,
and only for that inventory; runs recorded before coverage was stored never are."""

from __future__ import annotations

import sqlite3
import zlib
from datetime import timedelta
from pathlib import Path

from fleetaudit.history import HistoryStore
from fleetaudit.history.coverage import Coverage, coverage_of, inventory_key
from fleetaudit.history.earlier import last_full_success
from fleetaudit.history.schema import MIGRATIONS
from fleetaudit.model.run import RunResult
from tests.factories import T0, run_result, snapshot

PROD = "/etc/fleetaudit/prod.yaml"


def night(n: int) -> RunResult:
    """A run that audited both its hosts, ``n`` days after T0."""
    when = T0 + timedelta(days=n)
    return run_result(
        (snapshot("web1"), snapshot("db1")), run_id=f"night-{n}", started_at=when,
        finished_at=when + timedelta(minutes=5),
    )  # fmt: skip


def test_limited_runs_and_other_inventories_are_not_full_successes(tmp_path: Path) -> None:
    db = tmp_path / "h.sqlite"
    with HistoryStore(db) as store:
        store.save(night(1), 0, Coverage(PROD, whole=True))
        store.save(night(2), 0, Coverage(PROD, whole=False))  # --limit or a shard
        store.save(night(3), 0, Coverage("/srv/lab.yaml", whole=True))
        store.save(night(4), 0)  # no coverage given: unknown
    assert last_full_success(db, PROD) == night(1).finished_at
    assert last_full_success(db, "/srv/lab.yaml") == night(3).finished_at
    assert last_full_success(db, "/srv/other.yaml") is None


def test_coverage_is_decided_by_the_hosts_selected() -> None:
    inventory = Path("inv.yaml")
    assert coverage_of(inventory, ["a", "b"], ["b", "a"]).whole  # e.g. --limit '*', --shard 1/1
    assert not coverage_of(inventory, ["a", "b"], ["a"]).whole
    assert not coverage_of(inventory, ["a", "b"], []).whole  # an empty shard
    assert coverage_of(inventory, [], []).inventory == str(Path.cwd() / "inv.yaml")
    assert inventory_key(Path("-")) == "-"
    assert inventory_key(Path("/etc/x/../fleetaudit/prod.yaml")) == PROD


def _v1_database(path: Path) -> None:
    """A database as schema 1 wrote it, holding one run that audited all its hosts."""
    run = night(1)
    with sqlite3.connect(path) as raw:
        raw.executescript(MIGRATIONS[0] + "; PRAGMA user_version = 1;")
        raw.execute(
            "INSERT INTO runs VALUES (?, ?, ?, 'p', '0.1', 2, 0, 0, 0, ?)",
            (run.run_id, run.started_at.isoformat(), run.finished_at.isoformat(),
             zlib.compress(run.model_dump_json().encode())),
        )  # fmt: skip
    raw.close()


def test_runs_recorded_before_coverage_never_count(tmp_path: Path) -> None:
    db = tmp_path / "old.sqlite"
    _v1_database(db)
    assert last_full_success(db, PROD) is None, "read-only, not migrated yet: no error"
    with sqlite3.connect(db) as raw:
        assert raw.execute("PRAGMA user_version").fetchone()[0] == 1, "reading migrates nothing"
    raw.close()
    with HistoryStore(db) as store:  # opened for writing: migrated
        assert store.last_full_success(PROD) is None, "the old run may have been a --limit run"
        assert store.load("night-1") == night(1), "the old run still loads"
        store.save(night(2), 0, Coverage(PROD, whole=True))
    assert last_full_success(db, PROD) == night(2).finished_at
    with sqlite3.connect(db) as raw:
        assert raw.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
        rows = raw.execute("SELECT id, inventory, whole_inventory FROM runs ORDER BY id")
        assert rows.fetchall() == [("night-1", None, None), ("night-2", PROD, 1)]
    raw.close()


def test_merges_sharing_a_shard_are_found_and_replaced_old_databases_have_none(
    tmp_path: Path,
) -> None:
    db = tmp_path / "old.sqlite"
    _v1_database(db)
    with HistoryStore.open_read_only(db) as store:
        assert store.earlier_merges("night-1", ["s1"]) == ["night-1"], "not migrated: by id"
    with HistoryStore(db) as store:
        store.save(night(2), 2, Coverage(PROD, whole=True), shards=["s1-a", "s2-a"])
        store.save(night(3), 0, Coverage(PROD, whole=True), shards=["s1-b", "s2-b"])
        assert store.earlier_merges("new", ["s1-a", "s2-c"]) == ["night-2"]
        assert store.earlier_merges("night-3", ["s1-a"]) == ["night-3", "night-2"]
        assert store.earlier_merges("new", ["s9"]) == []
        again = night(2).model_copy(update={"run_id": "night-2-again"})
        store.save(again, 0, Coverage(PROD, whole=True), shards=["s1-a", "s2-c"])
        assert store.recorded(["night-1", "night-2", "night-2-again"]) == [
            "night-1", "night-2-again"
        ]  # fmt: skip
        assert store.earlier_merges("new", ["s2-a"]) == [], "the replaced merge's shards went"
        assert store.earlier_merges("new", ["s1-a"]) == ["night-2-again"]
        assert store.last_full_success(PROD, excluding=["night-3"]) == again.finished_at
