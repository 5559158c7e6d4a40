"""A clock that was wrong for one run: the history goes by the order runs were recorded,
not by their start times, so that run neither hides behind the others (clock behind)
nor passes for the latest for months (clock ahead), and retention keeps the diff's
baseline."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

from fleetaudit.history import HistoryStore
from fleetaudit.history.coverage import Coverage
from fleetaudit.history.schema import MIGRATIONS
from fleetaudit.model.enums import HostStatus
from fleetaudit.model.run import RunResult
from tests.factories import T0, finding, run_result, snapshot, sock
from tests.runcli import fleetaudit

PROD = "/srv/prod.yaml"
SSHD = sock("0.0.0.0", 22, "sshd")
REDIS = sock("0.0.0.0", 6379, "redis-server")


def night(day: int, *, clock: timedelta = timedelta(0), redis: bool = False) -> RunResult:
    """The night ``day`` after T0 as a clock off by ``clock`` saw it."""
    when = T0 + timedelta(days=day) + clock
    sockets = (SSHD, REDIS) if redis else (SSHD,)
    found = (finding("db1", REDIS),) if redis else ()
    return run_result(
        (snapshot("db1", *sockets),), found,
        run_id=f"{when:%Y%m%dT%H%M%SZ}-{day:06x}", started_at=when, finished_at=when,
    )  # fmt: skip


def _record(db: Path, *runs: RunResult) -> None:
    with HistoryStore(db) as store:
        for each in runs:
            store.save(each, 1 if each.findings else 0, Coverage(PROD, whole=True))


def _diff(db: Path, tmp_path: Path) -> str:
    done = fleetaudit("diff", "--db", db, state=tmp_path)
    assert done.returncode in (0, 1), done.stderr
    return done.stdout


def test_a_night_whose_clock_was_behind_is_still_the_latest(tmp_path: Path) -> None:
    """Tonight's run says it started two days ago: the morning diff still shows tonight."""
    db = tmp_path / "h.sqlite"
    tonight = night(3, clock=-timedelta(days=2), redis=True)
    _record(db, night(1), night(2), tonight)
    shown = _diff(db, tmp_path)
    assert f"-> {tonight.run_id}" in shown.splitlines()[0], shown
    assert "NEW FINDINGS (1)" in shown
    listed = fleetaudit("history", "--db", db, state=tmp_path).stdout
    assert listed.index(tonight.run_id) < listed.index(night(2).run_id), listed


def test_a_night_whose_clock_was_ahead_stops_counting_once_it_is_right(tmp_path: Path) -> None:
    """One run made with the clock 200 days ahead; the nights after it compare with it,
    in the order they happened, and its finish in the future is no last success."""
    db = tmp_path / "h.sqlite"
    ahead = night(2, clock=timedelta(days=200))
    _record(db, night(1), ahead, night(3, redis=True))
    shown = _diff(db, tmp_path)
    assert shown.splitlines()[0].startswith(f"DIFF {ahead.run_id}"), shown
    assert "NEW FINDINGS (1)" in shown
    with HistoryStore.open_read_only(db) as store:
        now = T0 + timedelta(days=3, hours=1)
        assert store.last_full_success(PROD, now=now) == night(3, redis=True).finished_at


def test_retention_keeps_the_run_the_next_diff_compares_with(tmp_path: Path) -> None:
    """The clock 200 days ahead with --keep-days 90, and the runs counted from it: every
    earlier run looks old, but the one the next diff compares with stays."""
    db = tmp_path / "h.sqlite"
    ahead = night(4, clock=timedelta(days=200))
    _record(db, night(1), night(2), night(3), ahead)
    with HistoryStore(db) as store:
        later = ahead.started_at + timedelta(days=1)  # a later run, the clock still ahead
        assert store.prune(90, later, spare="none") == 2
        assert [row.id for row in store.runs()] == [ahead.run_id, night(3).run_id]


def test_a_run_whose_clock_is_ahead_deletes_what_a_run_a_day_later_would(
    tmp_path: Path,
) -> None:
    """QA: one night with the clock months ahead and --keep-days deleted every run but the
    few a diff needs (80 runs became 9), without a word. Ages now count from a day after
    the newest other run when the clock reads later than that."""
    db = tmp_path / "h.sqlite"
    ahead = night(41, clock=timedelta(days=200))
    _record(db, *(night(day) for day in range(1, 41)), ahead)
    with HistoryStore(db) as store:
        assert store.prune(30, ahead.started_at, spare=ahead.run_id) == 10  # days 1-10
        assert len(store.runs(100)) == 31


def test_retention_keeps_the_last_run_that_audited_a_host_still_down(tmp_path: Path) -> None:
    """QA: db1 was audited on night 1 and down for the 100 nights after it; --keep-days 90
    deleted night 1, and when db1 came back its unchanged finding read as new. The last run
    that audited a host the kept runs could not audit stays, as the diff compares with it."""
    db = tmp_path / "h.sqlite"
    down = [
        run_result(
            (snapshot("db1", status=HostStatus.TIMEOUT),),
            (),
            run_id=f"down-{day:03d}",
            started_at=T0 + timedelta(days=day),
            finished_at=T0 + timedelta(days=day),
        )  # fmt: skip
        for day in (2, 50, 100, 101)
    ]
    _record(db, night(1, redis=True), *down)
    with HistoryStore(db) as store:
        assert store.prune(90, down[-1].started_at, spare=down[-1].run_id) == 1
        kept = [row.id for row in store.runs()]
    assert kept == [*(run.run_id for run in down[:0:-1]), night(1, redis=True).run_id]
    back = night(102, redis=True)
    _record(db, back)
    shown = _diff(db, tmp_path)
    assert "NEW FINDINGS" not in shown, shown
    assert f"compared with run {night(1, redis=True).run_id} " in shown, shown


def _fleet_night(
    run_id: str, day: int, *, down: tuple[str, ...] = (), hosts: tuple[str, ...] = ("db1", "a2")
) -> RunResult:
    when = T0 + timedelta(days=day)
    snapshots = tuple(
        snapshot(h, status=HostStatus.TIMEOUT) if h in down else snapshot(h, SSHD) for h in hosts
    )
    return run_result(snapshots, (), run_id=run_id, started_at=when, finished_at=when)


def test_retention_keeps_what_the_diffs_of_every_inventory_need(tmp_path: Path) -> None:
    """QA, two ways the last run that audited a down host was still deleted: a daytime
    `--limit` run recorded between two nights (the prune spared the run just before, not
    the one the diff compares with), and a run of another inventory sharing the database
    (only the inventory being run was spared)."""
    db = tmp_path / "h.sqlite"
    whole, part, other = (
        Coverage(PROD, whole=True),
        Coverage(PROD, whole=False),
        Coverage("/srv/lab.yaml", whole=True),
    )
    nights = [
        (_fleet_night("k-001", 1), whole),
        (_fleet_night("lab-002", 2, hosts=("b1",)), other),
        (_fleet_night("lab-010", 10, hosts=("b1",), down=("b1",)), other),
        (_fleet_night("d-050", 50, down=("a2",)), whole),
        (_fleet_night("d-100", 100, down=("a2",)), whole),
        (_fleet_night("l-101", 101, hosts=("db1",)), part),
        (_fleet_night("n-102", 102), whole),
    ]
    with HistoryStore(db) as store:
        for run, covered in nights:
            store.save(run, 0, covered)
        now = T0 + timedelta(days=102)
        store.prune(30, now, spare="n-102")
        kept = {row.id for row in store.runs()}
    # d-050 goes; k-001 stays for a2 (down in d-100, which the next diff compares with);
    # both lab runs stay: the lab's next diff compares with lab-010, b1 with lab-002
    assert kept == {"n-102", "l-101", "d-100", "k-001", "lab-010", "lab-002"}
    shown = _diff(db, tmp_path)
    assert "compared with run k-001" in shown and "NEW FINDINGS" not in shown, shown


def test_a_run_recorded_after_one_that_started_later_is_said(tmp_path: Path) -> None:
    inventory = tmp_path / "inventory.yaml"
    inventory.write_text("hosts:\n  localhost: {transport: local}\n")
    db = tmp_path / "h.sqlite"
    future = night(400)  # recorded by a run whose clock was a year ahead
    with HistoryStore(db) as store:
        store.save(future, 0)
    done = fleetaudit(
        "run", inventory, "--db", db, "--fail-on", "critical", "-o", f"json={tmp_path}/r.json",
        state=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert f"before run {future.run_id} (started " in done.stderr
    assert "the two runs overlapped (run the job under `flock -n`), or the clock" in done.stderr
    # said once: the next run compares with the run recorded just before it, not with
    # every earlier one (QA: every night for six months carried the warning)
    again = fleetaudit(
        "run", inventory, "--db", db, "--fail-on", "critical", "-o", f"json={tmp_path}/r.json",
        state=tmp_path,
    )  # fmt: skip
    assert again.returncode == 0 and "warning" not in again.stderr, again.stderr


def test_two_runs_at_once_are_said_and_the_diff_skips_the_one_it_overlapped(
    tmp_path: Path,
) -> None:
    """QA: two runs of one night at once (no flock), neither said anything, and the diff
    compared the second with the first: that night's changes were in no diff."""
    db = tmp_path / "h.sqlite"
    before, first = night(1), night(2, redis=True)
    second = run_result(
        first.snapshots, first.findings, run_id="20261126T032000Z-second",
        started_at=first.started_at + timedelta(minutes=5),
        finished_at=first.started_at + timedelta(minutes=40),
    )  # fmt: skip
    first = first.model_copy(update={"finished_at": first.started_at + timedelta(minutes=30)})
    _record(db, before, first, second)
    shown = _diff(db, tmp_path)
    assert shown.startswith(f"DIFF {before.run_id} "), shown
    assert "running at the same time" in shown and "NEW FINDINGS (1)" in shown
    # a short run inside a long one, the long one recorded last: compared backwards (QA)
    inside = run_result(
        first.snapshots, (), run_id="20261126T032000Z-inside",
        started_at=second.started_at + timedelta(days=1, minutes=5),
        finished_at=second.started_at + timedelta(days=1, minutes=10),
    )  # fmt: skip
    around = second.model_copy(
        update={
            "run_id": "20261127T031500Z-around",
            "started_at": inside.started_at - timedelta(minutes=10),
            "finished_at": inside.finished_at + timedelta(minutes=30),
        }
    )
    _record(db, inside, around)
    shown = _diff(db, tmp_path)
    assert shown.startswith(f"DIFF {second.run_id} "), shown
    inventory = tmp_path / "inventory.yaml"
    inventory.write_text("hosts:\n  localhost: {transport: local}\n")
    now = datetime.now(UTC)
    still_running = run_result(
        (), (), run_id="20991231T000000Z-runnin", started_at=now - timedelta(minutes=1),
        finished_at=now + timedelta(minutes=10),
    )  # fmt: skip
    _record(db, still_running)
    done = fleetaudit("run", inventory, "--db", db, "--fail-on", "critical", "-o",
                      f"json={tmp_path}/r.json", state=tmp_path)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert f"while run {still_running.run_id} (started " in done.stderr
    assert "was still running: two runs at once (run the job under `flock -n`)" in done.stderr


def _schema4_history(db: Path, days: tuple[int, ...]) -> None:
    """A history as release 0.2 left it (schema 4), its runs recorded in ``days`` order."""
    raw = sqlite3.connect(db, isolation_level=None)
    for number, script in enumerate(MIGRATIONS[:4], start=1):
        raw.executescript(f"BEGIN; {script}; PRAGMA user_version = {number}; COMMIT;")
    for day in days:
        each = night(day)
        raw.execute(
            "INSERT INTO runs (id, started_at, finished_at, policy, fleetaudit_version, hosts, "
            "hosts_failed, findings, exit_code, document, inventory, whole_inventory) "
            "VALUES (?, ?, ?, 'test', '0.1.0', 1, 0, 0, 0, x'00', ?, 1)",
            (each.run_id, each.started_at.isoformat(), each.finished_at.isoformat(), PROD),
        )
        raw.execute("INSERT INTO host_status VALUES (?, 'db1', ?, NULL)",
                    (each.run_id, HostStatus.OK.value))  # fmt: skip
    raw.close()


def test_an_older_history_is_numbered_by_start_time(tmp_path: Path) -> None:
    db = tmp_path / "h.sqlite"
    _schema4_history(db, (3, 1, 2))
    with HistoryStore(db) as store:
        assert [row.id for row in store.runs()] == [night(d).run_id for d in (3, 2, 1)]
        store.save(night(0), 0, Coverage(PROD, whole=True))  # clock behind: recorded last
        assert store.runs()[0].id == night(0).run_id
    with sqlite3.connect(db) as raw:
        numbers = dict(raw.execute("SELECT id, recorded FROM runs").fetchall())
    assert [numbers[night(d).run_id] for d in (1, 2, 3, 0)] == [1, 2, 3, 4]


def test_a_history_not_yet_numbered_is_read_by_start_time(tmp_path: Path) -> None:
    """`history` of a database an older release wrote, before any new run migrated it:
    read as it is, by start time, and left at its schema."""
    db = tmp_path / "h.sqlite"
    _schema4_history(db, (3, 1, 2))
    with HistoryStore.open_read_only(db) as store:
        assert [row.id for row in store.runs()] == [night(d).run_id for d in (3, 2, 1)]
        assert store.runs_between(night(1).run_id, night(3).run_id) == 1
    with sqlite3.connect(db) as raw:
        assert raw.execute("PRAGMA user_version").fetchone()[0] == 4
