"""`fleetaudit_last_success_timestamp_seconds` stays in the textfile on a night with a host
not audited: its value then comes from the history, so `time() - metric > X` keeps counting."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from fleetaudit.history import HistoryStore
from fleetaudit.history.coverage import Coverage
from fleetaudit.history.earlier import last_full_success
from fleetaudit.model.enums import HostStatus
from fleetaudit.model.run import RunResult
from fleetaudit.report.prom import PromFormatter
from tests.factories import T0, run_result, snapshot

METRIC = "fleetaudit_last_success_timestamp_seconds"
WHOLE = Coverage("/etc/fleetaudit/prod.yaml", whole=True)
DOWN = snapshot("db1", status=HostStatus.UNREACHABLE, error="refused", tool=None, privilege=None)


def night(n: int, *, all_audited: bool) -> RunResult:
    when = T0 + timedelta(days=n)
    hosts = (snapshot("web1"), snapshot("db1") if all_audited else DOWN)
    return run_result(
        hosts, run_id=f"night-{n}", started_at=when, finished_at=when + timedelta(minutes=5)
    )


def metric(text: str) -> int | None:
    values = [int(line.split()[1]) for line in text.splitlines() if line.startswith(METRIC + " ")]
    assert len(values) <= 1
    return values[0] if values else None


def test_a_night_with_a_host_not_audited_reports_the_last_full_success(tmp_path: Path) -> None:
    db = tmp_path / "history.sqlite"
    assert last_full_success(db, WHOLE.inventory) is None  # no database yet: the first run
    assert not db.exists(), "reading never creates the database"
    with HistoryStore(db) as store:
        store.save(night(1, all_audited=True), 0, WHOLE)
        store.save(night(2, all_audited=True), 1, WHOLE)
        store.save(night(3, all_audited=False), 2, WHOLE)
    last = last_full_success(db, WHOLE.inventory)
    assert last == night(2, all_audited=True).finished_at
    text = PromFormatter(last_success=last).render(night(4, all_audited=False))
    assert metric(text) == int(last.timestamp())
    assert "fleetaudit_run_success 0" in text
    assert f"# TYPE {METRIC} gauge" in text


def test_a_full_success_reports_itself_and_no_history_means_no_metric() -> None:
    ok = night(5, all_audited=True)
    older = T0
    assert metric(PromFormatter(last_success=older).render(ok)) == int(ok.finished_at.timestamp())
    assert metric(PromFormatter().render(night(6, all_audited=False))) is None


def test_an_old_night_merged_again_does_not_turn_the_clock_back() -> None:
    """A full success days old (a night's shards merged again late) reports the history's
    newer full audit: the metric says when a run last audited every host."""
    old, newer = night(1, all_audited=True), night(3, all_audited=True).finished_at
    assert metric(PromFormatter(last_success=newer).render(old)) == int(newer.timestamp())


def test_an_empty_history_has_no_full_success(tmp_path: Path) -> None:
    db = tmp_path / "history.sqlite"
    with HistoryStore(db) as store:
        store.save(night(1, all_audited=False), 2, WHOLE)
    assert last_full_success(db, WHOLE.inventory) is None
