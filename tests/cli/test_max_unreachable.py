"""`--max-unreachable N|N%` accepts a few hosts that could not be reached, not an outage.

`--allow-unreachable` accepts any number of unreachable hosts, so a nightly cron line using it
exits 0 when the audit box loses its route to half the fleet. A limit keeps the night green
for the few hosts that are always down in a large fleet and fails it (exit 2, mailed) when
many more are; host-key and login failures stay exit 2 within the limit.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from fleetaudit.errors import ExitCode, InputError
from fleetaudit.model.enums import HostStatus, Severity
from fleetaudit.model.host import HostSnapshot
from fleetaudit.verdict import UnreachableLimit, error_reason, verdict
from tests.factories import run_result, snapshot
from tests.runcli import fleetaudit


def _fleet(down: int, up: int = 1) -> tuple[HostSnapshot, ...]:
    """``up`` audited hosts and ``down`` that could not be reached."""
    unreached = {"status": HostStatus.UNREACHABLE, "error": "refused"}
    return (
        *(snapshot(f"ok{i}") for i in range(up)),
        *(snapshot(f"down{i}", **unreached) for i in range(down)),
    )


@pytest.mark.parametrize(
    ("limit", "hosts", "accepted"),
    [("0", 500, 0), ("3", 500, 3), ("2%", 500, 10), ("2%", 120, 2), ("0.5%", 1000, 5),
     ("100%", 7, 7), ("0%", 40, 0), (" 4 ", 9, 4)],
)  # fmt: skip
def test_a_limit_is_a_count_or_a_percentage_rounded_down(
    limit: str, hosts: int, accepted: int
) -> None:
    assert UnreachableLimit.parse(limit).allowed(hosts) == accepted


@pytest.mark.parametrize(
    "text", ["", "abc", "-1", "5.5", "1e3", "%", "101%", "2 %", "10000000000", "\uff15", "\u0663%"]
)
def test_a_limit_that_cannot_be_read_is_refused(text: str) -> None:
    with pytest.raises(InputError, match="--max-unreachable"):
        UnreachableLimit.parse(text)


def test_up_to_the_limit_is_accepted_and_beyond_it_is_an_error_that_says_so() -> None:
    two_down = run_result(_fleet(down=2, up=8))
    assert verdict(two_down, Severity.HIGH, max_unreachable=UnreachableLimit(count=2)) is (
        ExitCode.CLEAN
    )
    assert verdict(two_down, Severity.HIGH, max_unreachable=UnreachableLimit(percent=20)) is (
        ExitCode.CLEAN
    )
    tight = UnreachableLimit(percent=10)
    assert verdict(two_down, Severity.HIGH, max_unreachable=tight) is ExitCode.ERROR
    assert error_reason(two_down, max_unreachable=tight) == (
        "2 hosts could not be reached, more than --max-unreachable 10% accepts (1 of 10)"
    )
    # --allow-unreachable alongside does not lift the limit
    assert verdict(two_down, None, allow_unreachable=True, max_unreachable=tight) is (
        ExitCode.ERROR
    )


@pytest.mark.parametrize("status", [s for s in HostStatus if not s.audited and not s.unreachable])
def test_failures_other_than_not_reached_stay_errors_within_the_limit(status: HostStatus) -> None:
    run = run_result((*_fleet(down=0, up=5), snapshot("bad", status=status, error="x")))
    generous = UnreachableLimit(count=100)
    assert verdict(run, Severity.HIGH, max_unreachable=generous) is ExitCode.ERROR
    reason = error_reason(run, max_unreachable=generous)
    assert reason is not None and "--max-unreachable does not accept" in reason


def test_nothing_audited_is_an_error_whatever_the_limit() -> None:
    run = run_result(_fleet(down=3, up=0))
    assert error_reason(run, max_unreachable=UnreachableLimit(percent=100)) == "no host audited"


# --- the command line, with hosts that refuse connections ----------------------------------


def _inventory(tmp_path: Path, port: int, down: int) -> Path:
    path = tmp_path / "fleet.yaml"
    lines = ["hosts:", "  localhost: {transport: local}"]
    lines += [f"  down{i}: {{address: 127.0.0.1, port: {port}}}" for i in range(down)]
    path.write_text("\n".join(lines) + "\n")
    return path


def _run(tmp_path: Path, inventory: Path, *options: str) -> tuple[int, str]:
    done = fleetaudit(
        "run", inventory, "--no-history", "-o", f"json={tmp_path / 'r.json'}", "--fail-on",
        "critical", "--connect-timeout", "5", *options, state=tmp_path,
    )  # fmt: skip
    assert "Traceback" not in done.stderr, done.stderr
    return done.returncode, done.stderr.strip().splitlines()[-1]


def test_run_and_merge_exit_by_the_limit(tmp_path: Path, refused_port: int) -> None:
    inventory = _inventory(tmp_path, refused_port, down=3)  # 3 of 4 hosts down
    code, summary = _run(tmp_path, inventory, "--max-unreachable", "3")
    assert code == 0, summary
    code, summary = _run(tmp_path, inventory, "--max-unreachable", "50%")
    assert code == 2
    assert summary.endswith(
        "exit 2: 3 hosts could not be reached, more than --max-unreachable 50% accepts (2 of 4)"
    )
    code, summary = _run(tmp_path, inventory, "--max-unreachable", "lots")
    assert code == 2 and "give a number of hosts (5) or a percentage (2%)" in summary

    shards = []
    for k in (1, 2):
        shards.append(tmp_path / f"s{k}.json")
        fleetaudit(
            "run", inventory, "--shard", f"{k}/2", "--no-history", "-o", f"json={shards[-1]}",
            "--connect-timeout", "5", state=tmp_path,
        )  # fmt: skip
    merged = fleetaudit("merge", *shards, "--max-unreachable", "1", "--fail-on", "critical")
    assert merged.returncode == 2
    assert "more than --max-unreachable 1 accepts" in merged.stderr
    merged = fleetaudit("merge", *shards, "--max-unreachable", "75%", "--fail-on", "critical")
    assert merged.returncode == 0, merged.stderr


def test_the_reason_names_every_cause_and_the_limit_as_written() -> None:
    run = run_result((*_fleet(down=3, up=96), snapshot("bad", status=HostStatus.AUTH_FAILED)))
    assert error_reason(run, max_unreachable=UnreachableLimit.parse("1")) == (
        "1 host not audited for reasons --max-unreachable does not accept (auth_failed); "
        "and 3 hosts could not be reached, more than --max-unreachable 1 accepts"
    )
    near_five = UnreachableLimit.parse("2.999999%")
    assert error_reason(run_result(_fleet(down=3, up=97)), max_unreachable=near_five) == (
        "3 hosts could not be reached, more than --max-unreachable 2.999999% accepts (2 of 100)"
    )
