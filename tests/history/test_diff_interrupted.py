"""`fleetaudit diff` and `history` around a run stopped by SIGTERM: ``interrupted`` says
nothing about a host, so a host's status is compared with the last earlier run that
finished it, and `history` shows interrupted hosts apart from failed ones."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from fleetaudit.history import HistoryStore
from fleetaudit.model.enums import HostStatus
from fleetaudit.model.host import HostSnapshot
from fleetaudit.model.run import RunResult
from tests.factories import T0, run_result, snapshot, sock
from tests.runcli import fleetaudit

SSHD = sock("0.0.0.0", 22, "sshd")
MYSQL_ANY = sock("0.0.0.0", 3306, "mysqld")


def down(host: str, status: HostStatus) -> HostSnapshot:
    return snapshot(host, status=status, error=status.value, tool=None, privilege=None)


def night(n: int, *hosts: HostSnapshot, stopped: bool = False) -> RunResult:
    when = T0 + timedelta(days=n)
    run_id = f"{when:%Y%m%dT%H%M%SZ}-n{n:05d}"
    fields: dict[str, object] = {"interrupted_by": "SIGTERM"} if stopped else {}
    return run_result(hosts, (), run_id=run_id, started_at=when, finished_at=when, **fields)


STOP = HostStatus.INTERRUPTED
NIGHTS = (
    # night 0: everything fine
    night(0, *(snapshot(h, SSHD) for h in ("h0031", "h0101", "h0150", "h0200", "h0007"))),
    # night 1: h0031 broken (for weeks), h0200 refuses the audit key
    night(1, down("h0031", HostStatus.TIMEOUT), snapshot("h0101", SSHD),
          snapshot("h0150", SSHD), down("h0200", HostStatus.AUTH_FAILED),
          snapshot("h0007", SSHD)),
    # stopped by SIGTERM: only h0007 was finished
    night(2, down("h0031", STOP), down("h0101", STOP), down("h0150", STOP),
          down("h0200", STOP), snapshot("h0007", SSHD), stopped=True),
    # night 2: h0101 broke tonight, h0150 opened mysql to the world, h0200 fixed
    night(3, down("h0031", HostStatus.TIMEOUT), down("h0101", HostStatus.TIMEOUT),
          snapshot("h0150", SSHD, MYSQL_ANY), snapshot("h0200", SSHD),
          snapshot("h0007", SSHD)),
)  # fmt: skip
N0, N1, STOPPED, N2 = (r.run_id for r in NIGHTS)


def record(db: Path, *runs: RunResult) -> Path:
    with HistoryStore(db) as store:
        for result in runs:
            store.save(result, 143 if result.interrupted_by else 0)
    return db


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return record(tmp_path / "history.sqlite", *NIGHTS)


def hosts_section(text: str) -> str:
    return text.split("\nHOSTS\n", 1)[1]


def test_after_a_stopped_run_only_real_changes_are_listed(db: Path) -> None:
    done = fleetaudit("diff", "--db", db)
    assert done.returncode == 1, done.stderr
    # h0031 (timeout both nights) and h0007 (finished by both) are not listed at all.
    assert hosts_section(done.stdout) == (
        "h0101\n"
        "  status ok -> timeout\n"
        f"  status compared with run {N1} of 2026-11-25 03:15:00 UTC, the last that finished it\n"
        "h0150\n"
        f"  compared with run {N1} of 2026-11-25 03:15:00 UTC, the last in which it was "
        "audited with a whole listing\n"
        "  + tcp 0.0.0.0:3306 mysqld\n"
        "h0200\n"
        "  status auth_failed -> ok\n"
        f"  status compared with run {N1} of 2026-11-25 03:15:00 UTC, the last that finished it\n"
        f"  compared with run {N0} of 2026-11-24 03:15:00 UTC, the last in which it was "
        "audited with a whole listing\n"
    )
    head = done.stdout.splitlines()[0]
    assert head == (
        f"DIFF {STOPPED} (started 2026-11-26 03:15:00 UTC, exit 143, stopped by SIGTERM) -> "
        f"{N2} (started 2026-11-27 03:15:00 UTC, exit 0)"
    )


def test_the_json_diff_names_the_run_each_status_comes_from(db: Path) -> None:
    changes = json.loads(fleetaudit("diff", "--db", db, "--format", "json").stdout)
    assert changes["before_interrupted_by"] == "SIGTERM"
    assert changes["after_interrupted_by"] is None
    hosts = {h["host"]: h for h in changes["hosts"]}
    assert sorted(hosts) == ["h0101", "h0150", "h0200"]
    h0101 = hosts["h0101"]
    assert (h0101["status_before"], h0101["status_after"]) == ("ok", "timeout")
    assert h0101["status_compared_with"] == N1
    assert h0101["status_compared_with_started_at"].startswith("2026-11-25T03:15:00")
    assert h0101["compared_with"] is None  # not audited tonight: no listeners compared
    assert (hosts["h0200"]["status_compared_with"], hosts["h0200"]["compared_with"]) == (N1, N0)


def test_the_markdown_diff_says_it_too(db: Path) -> None:
    text = fleetaudit("diff", "--db", db, "--format", "markdown").stdout
    assert "- **h0101**\n  - `status ok -> timeout`\n  - `status compared with run " in text
    assert "interrupted" not in text.split("### Hosts", 1)[1]


def test_a_host_the_newer_run_did_not_finish_reads_interrupted(db: Path) -> None:
    done = fleetaudit("diff", N1, STOPPED, "--db", db)
    assert done.returncode == 1, done.stderr
    section = hosts_section(done.stdout)
    assert "h0101\n  status ok -> interrupted\n" in section
    assert "h0031\n  status timeout -> interrupted\n" in section
    assert "compared with" not in section  # the older run finished every host
    assert done.stdout.splitlines()[0].endswith(", exit 143, stopped by SIGTERM)")


def test_without_an_earlier_status_the_plain_comparison_is_kept_and_explained(
    tmp_path: Path,
) -> None:
    db = record(tmp_path / "history.sqlite", NIGHTS[2], NIGHTS[3])
    section = hosts_section(fleetaudit("diff", "--db", db).stdout)
    assert section.startswith(
        "4 host(s) read 'interrupted -> ...': the older run was stopped before finishing "
        "them and no earlier run in the history finished them, so their status before is "
        "unknown\nh0031\n  status interrupted -> timeout\n"
    )
    files = []
    for result in NIGHTS[2:]:
        path = tmp_path / f"{result.run_id}.json"
        path.write_text(result.model_dump_json())
        files.append(path)
    done = fleetaudit("diff", *files)
    assert done.returncode == 1, done.stderr
    assert "and a file diff consults no history" in done.stdout
    assert "h0101\n  status interrupted -> timeout\n" in done.stdout
    markdown = fleetaudit("diff", *files, "--format", "markdown").stdout
    assert "4 host(s) read `interrupted -> ...`: the older run was stopped" in markdown


def test_history_shows_interrupted_hosts_apart_from_failed_ones(db: Path) -> None:
    done = fleetaudit("history", "--db", db)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].split() == [
        "run", "started", "(UTC)", "policy", "hosts", "failed", "interrupted", "findings", "exit"
    ]  # fmt: skip
    rows = {line.split()[0]: line.split()[3:] for line in lines[2:]}
    assert rows[STOPPED] == ["5", "0", "4", "0", "143"]
    assert rows[N1] == ["5", "2", "0", "0", "0"]
    with HistoryStore.open_read_only(db) as store:
        stopped = next(r for r in store.runs() if r.id == STOPPED)
    assert (stopped.hosts_failed, stopped.hosts_interrupted, stopped.hosts_broken) == (4, 4, 0)
