"""`fleetaudit diff` on the nightly history: a host not audited in the older run is compared
with the last earlier run that audited it; the header says when each run started and how it
ended; a run is found by the random part of its id."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from fleetaudit.errors import HistoryError
from fleetaudit.history import HistoryStore
from fleetaudit.model.enums import HostStatus, Privilege, Proto
from fleetaudit.model.host import LineError
from fleetaudit.model.run import RunResult
from tests.factories import T0, finding, run_result, snapshot, sock
from tests.runcli import fleetaudit

MYSQL_ANY = sock("0.0.0.0", 3306, "mysqld")
REDIS_ANY = sock("0.0.0.0", 6379, "redis-server")
SSHD = sock("0.0.0.0", 22, "sshd")
DB1_DOWN = snapshot("db1", status=HostStatus.AUTH_FAILED, error="denied", tool=None, privilege=None)


def night(n: int, *hosts: object, findings: tuple[object, ...] = ()) -> RunResult:
    when = T0 + timedelta(days=n)
    run_id = f"{when:%Y%m%dT%H%M%SZ}-n{n:05d}"
    return run_result(hosts, findings, run_id=run_id, started_at=when, finished_at=when)  # type: ignore[arg-type]


def record(db: Path, *runs: tuple[RunResult, int]) -> None:
    with HistoryStore(db) as store:
        for result, code in runs:
            store.save(result, code)


@pytest.fixture
def nights(tmp_path: Path) -> tuple[Path, list[RunResult]]:
    """Night 2 sees db1's 0.0.0.0:3306 and 0.0.0.0:6379 findings, night 3 cannot log in to
    db1, night 4 sees 3306 still there and 6379 gone."""
    runs = [
        night(1, snapshot("web1", SSHD), snapshot("db1", SSHD)),
        night(2, snapshot("web1", SSHD), snapshot("db1", SSHD, MYSQL_ANY, REDIS_ANY),
              findings=(finding("db1", MYSQL_ANY), finding("db1", REDIS_ANY))),
        night(3, snapshot("web1", SSHD), DB1_DOWN),
        night(4, snapshot("web1", SSHD), snapshot("db1", SSHD, MYSQL_ANY),
              findings=(finding("db1", MYSQL_ANY),)),
    ]  # fmt: skip
    db = tmp_path / "history.sqlite"
    record(db, (runs[0], 0), (runs[1], 1), (runs[2], 2), (runs[3], 1))
    return db, runs


def test_a_host_not_audited_the_night_before_is_compared_with_its_last_audit(
    nights: tuple[Path, list[RunResult]],
) -> None:
    db, runs = nights
    done = fleetaudit("diff", "--db", db, "--format", "json")
    assert done.returncode == 1, done.stderr
    changes = json.loads(done.stdout)
    assert (changes["before"], changes["after"]) == (runs[2].run_id, runs[3].run_id)
    assert changes["new_findings"] == [], "3306 was there on night 2: not new"
    assert [f["socket"]["local_port"] for f in changes["resolved_findings"]] == [6379]
    [db1] = changes["hosts"]
    assert (db1["status_before"], db1["status_after"]) == ("auth_failed", "ok")
    assert db1["compared_with"] == runs[1].run_id
    assert [k[1] for k in db1["removed_listeners"]] == ["0.0.0.0:6379"]
    assert db1["new_listeners"] == []


def test_the_table_says_which_run_a_host_was_compared_with(
    nights: tuple[Path, list[RunResult]],
) -> None:
    db, runs = nights
    done = fleetaudit("diff", "--db", db)
    assert done.returncode == 1, done.stderr
    assert (
        f"compared with run {runs[1].run_id} of 2026-11-26 03:15:00 UTC, "
        "the last in which it was audited"
    ) in done.stdout
    assert "NEW FINDINGS" not in done.stdout and "RESOLVED (1)" in done.stdout


def test_the_header_shows_when_each_run_started_and_its_exit_code(
    nights: tuple[Path, list[RunResult]],
) -> None:
    db, runs = nights
    done = fleetaudit("diff", "--db", db)
    first = done.stdout.splitlines()[0]
    assert first == (
        f"DIFF {runs[2].run_id} (started 2026-11-27 03:15:00 UTC, exit 2) -> "
        f"{runs[3].run_id} (started 2026-11-28 03:15:00 UTC, exit 1)"
    )
    markdown = fleetaudit("diff", "--db", db, "--format", "markdown").stdout
    assert f"- **After:** `{runs[3].run_id}`, started 2026-11-28 03:15:00 UTC, exit 1" in markdown


def test_a_host_never_audited_before_keeps_all_its_findings_new(tmp_path: Path) -> None:
    db = tmp_path / "history.sqlite"
    first = night(1, snapshot("web1", SSHD), DB1_DOWN)
    second = night(2, snapshot("web1", SSHD), snapshot("db1", MYSQL_ANY),
                   findings=(finding("db1", MYSQL_ANY),))  # fmt: skip
    record(db, (first, 2), (second, 1))
    changes = json.loads(fleetaudit("diff", "--db", db, "--format", "json").stdout)
    assert [f["host"] for f in changes["new_findings"]] == ["db1"]
    assert changes["hosts"][0]["compared_with"] is None


def test_two_snapshot_files_are_compared_as_they_are(
    nights: tuple[Path, list[RunResult]], tmp_path: Path
) -> None:
    _, runs = nights
    files = []
    for result in runs[2:]:
        path = tmp_path / f"{result.run_id}.json"
        path.write_text(result.model_dump_json())
        files.append(path)
    changes = json.loads(fleetaudit("diff", *files, "--format", "json").stdout)
    assert [f["socket"]["local_port"] for f in changes["new_findings"]] == [3306]
    assert changes["before_exit_code"] is None  # a file does not record it


def test_a_run_is_found_by_the_random_part_of_its_id(tmp_path: Path) -> None:
    db = tmp_path / "history.sqlite"
    one = night(1, snapshot("web1", SSHD))
    two = night(2, snapshot("web1", SSHD)).model_copy(update={"run_id": "20261126T031500Z-f50dfb"})
    three = night(3, snapshot("web1", SSHD)).model_copy(
        update={"run_id": "20261127T031500Z-f50aaa"}
    )
    record(db, (one, 0), (two, 0), (three, 0))
    done = fleetaudit("diff", "f50dfb", "--db", db)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"DIFF {two.run_id} ")
    with HistoryStore.open_read_only(db) as store:
        assert store.resolve("F50DFB") == two.run_id
        assert store.resolve("20261125") == one.run_id
        with pytest.raises(HistoryError, match="no run 'f50d'"):
            store.resolve("f50d")  # the random part is taken whole
    ambiguous = fleetaudit("diff", "2026112", "--db", db)
    assert ambiguous.returncode == 2
    for candidate in (one, two, three):
        assert candidate.run_id in ambiguous.stderr
    assert "Traceback" not in ambiguous.stderr


def test_a_waiver_that_expired_while_the_host_was_down_is_said_so(tmp_path: Path) -> None:
    """The last run that audited db1 had its 3306 finding waived; tonight the waiver has
    expired. That is no new listener: it is the same finding, no longer waived."""
    from datetime import date

    from fleetaudit.model.finding import AppliedWaiver

    def waived(expired: bool) -> object:
        waiver = AppliedWaiver(reason="migration", expires=date(2026, 11, 26), expired=expired)
        return finding("db1", MYSQL_ANY).model_copy(update={"waiver": waiver})

    runs = [
        night(1, snapshot("db1", SSHD, MYSQL_ANY), findings=(waived(False),)),
        night(2, DB1_DOWN),
        night(3, snapshot("db1", SSHD, MYSQL_ANY), findings=(waived(True),)),
    ]
    db = tmp_path / "history.sqlite"
    record(db, (runs[0], 0), (runs[1], 2), (runs[2], 1))
    changes = json.loads(fleetaudit("diff", "--db", db, "--format", "json").stdout)
    assert changes["new_findings"] == []
    [change] = changes["changed_findings"]
    assert change["before"]["waiver"]["expired"] is False
    assert change["after"]["waiver"]["expired"] is True


def test_a_program_change_behind_a_night_without_root_is_new(tmp_path: Path) -> None:
    """QA: telnetd on 23, a night audited without root (owner unknown), then inetd on 23.
    Each night was paired with the next as the same finding, so no diff of adjacent runs
    said another program now held the port. The night after is compared with the last
    night that named the owner: inetd's finding on tcp/23 is new; udp/23, inetd's all
    along, is not, nor is anything resolved."""
    telnet, inetd_udp = (
        sock("0.0.0.0", 23, "telnetd"),
        sock("0.0.0.0", 23, "inetd", proto=Proto.UDP),
    )
    hidden_tcp = sock("0.0.0.0", 23, None, owner_known=False)
    hidden_udp = sock("0.0.0.0", 23, None, owner_known=False, proto=Proto.UDP)
    inetd_tcp = sock("0.0.0.0", 23, "inetd")
    unprivileged = {"privilege": Privilege.UNPRIVILEGED}
    runs = [
        night(1, snapshot("gw", telnet, inetd_udp),
              findings=(finding("gw", telnet), finding("gw", inetd_udp))),
        night(2, snapshot("gw", hidden_tcp, hidden_udp, **unprivileged),
              findings=(finding("gw", hidden_tcp), finding("gw", hidden_udp))),
        night(3, snapshot("gw", inetd_tcp, inetd_udp),
              findings=(finding("gw", inetd_tcp), finding("gw", inetd_udp))),
    ]  # fmt: skip
    db = tmp_path / "history.sqlite"
    record(db, *((run, 1) for run in runs))
    done = fleetaudit("diff", "--db", db, "--format", "json")
    changes = json.loads(done.stdout)
    assert (changes["before"], changes["after"]) == (runs[1].run_id, runs[2].run_id)
    new = [(f["socket"]["proto"], [p["name"] for p in f["socket"]["processes"]])
           for f in changes["new_findings"]]  # fmt: skip
    assert new == [("tcp", ["inetd"])], done.stdout
    assert changes["resolved_findings"] == []
    assert done.returncode == 1, done.stderr


UNREAD = LineError(line=5, text="tcp LISTEN 0 128 0.0.0.0:", reason="no port after ':'")


def test_a_host_whose_listing_was_incomplete_is_compared_with_its_last_whole_one(
    tmp_path: Path,
) -> None:
    """QA: compared with a night whose listing lacked a line, what went meanwhile (6379,
    closed that night) never read as resolved, and what the line hid (3306, there for
    months) read as new."""
    runs = [
        night(1, snapshot("db1", SSHD, MYSQL_ANY, REDIS_ANY),
              findings=(finding("db1", MYSQL_ANY), finding("db1", REDIS_ANY))),
        night(2, snapshot("db1", SSHD, parse_errors=(UNREAD,))),  # 3306 unread, 6379 closed
        night(3, snapshot("db1", SSHD, MYSQL_ANY), findings=(finding("db1", MYSQL_ANY),)),
    ]  # fmt: skip
    db = tmp_path / "history.sqlite"
    record(db, (runs[0], 1), (runs[1], 1), (runs[2], 1))
    cut_night = json.loads(fleetaudit("diff", "--db", db, runs[0].run_id, runs[1].run_id,
                                      "--format", "json").stdout)  # fmt: skip
    assert cut_night["resolved_findings"] == []
    assert [f["socket"]["local_port"] for f in cut_night["unlisted_findings"]] == [3306, 6379]
    done = fleetaudit("diff", "--db", db, "--format", "json")
    assert done.returncode == 1, done.stderr
    changes = json.loads(done.stdout)
    assert changes["new_findings"] == [], "3306 was there on night 1: not new"
    assert [f["socket"]["local_port"] for f in changes["resolved_findings"]] == [6379]
    [db1] = changes["hosts"]
    assert db1["compared_with"] == runs[0].run_id
    assert [k[1] for k in db1["removed_listeners"]] == ["0.0.0.0:6379"]
