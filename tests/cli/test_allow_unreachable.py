"""`--allow-unreachable` accepts only hosts that could not be reached, and the end of stderr
names the hosts not audited.

A cron job with `--allow-unreachable` must still exit 2 (and so mail) when a host's key
changed (a reinstall or a man-in-the-middle) or the audit key was refused; and the last
lines of its log, which cron mails, must say which hosts to look at, not only counts.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fleetaudit.errors import ExitCode
from fleetaudit.lab.keys import generate_key, known_hosts_entry, write_private_key
from fleetaudit.model.enums import HostStatus, Severity
from fleetaudit.report.json import JsonFormatter
from fleetaudit.verdict import error_reason, verdict
from tests.factories import run_result, snapshot
from tests.runcli import fleetaudit
from tests.sshd import SshdServer

NOT_REACHED = {"unresolvable", "unreachable", "timeout", "connection_lost"}
TOLERANT = "--allow-unreachable"


def lines(stderr: str) -> list[str]:
    return stderr.strip().splitlines()


# --- the rule --------------------------------------------------------------------------


def test_only_statuses_of_a_host_not_reached_are_unreachable() -> None:
    assert {s.value for s in HostStatus if s.unreachable} == NOT_REACHED


@pytest.mark.parametrize("status", [s for s in HostStatus if not s.audited])
def test_the_flag_accepts_a_status_only_when_the_host_was_not_reached(
    status: HostStatus,
) -> None:
    run = run_result((snapshot("ok1"), snapshot("bad1", status=status, error="x")))
    expected = ExitCode.CLEAN if status.value in NOT_REACHED else ExitCode.ERROR
    assert verdict(run, Severity.HIGH, allow_unreachable=True) is expected
    assert verdict(run, Severity.HIGH) is ExitCode.ERROR


def test_the_reason_names_the_statuses_the_flag_did_not_accept() -> None:
    run = run_result(
        (
            snapshot("ok1"),
            snapshot("a", status=HostStatus.HOST_KEY_CHANGED),
            snapshot("b", status=HostStatus.AUTH_FAILED),
            snapshot("c", status=HostStatus.AUTH_FAILED),
            snapshot("d", status=HostStatus.TIMEOUT),
        )
    )
    assert error_reason(run, allow_unreachable=True) == (
        "3 hosts not audited for reasons --allow-unreachable does not accept "
        "(auth_failed, host_key_changed)"
    )
    assert error_reason(run) == (
        "4 hosts not audited (--allow-unreachable would not accept auth_failed, host_key_changed)"
    )


# --- real hosts: a real sshd, refused ports, this machine --------------------------------


def _inventory(tmp: Path, sshd: SshdServer, key: Path, down_port: int) -> Path:
    path = tmp / "inventory.yaml"
    path.write_text(
        f"defaults: {{user: {sshd.user}, key: {key}}}\n"
        "hosts:\n"
        "  localhost: {transport: local}\n"
        f"  target: {{address: {sshd.host}, port: {sshd.port}}}\n"
        f"  down: {{address: 127.0.0.1, port: {down_port}}}\n"
    )
    return path


def _run(tmp: Path, inventory: Path, known_hosts: str, *options: str) -> tuple[int, str, dict]:
    trusted = tmp / "known_hosts"
    trusted.write_text(known_hosts + "\n")
    report = tmp / "report.json"
    done = fleetaudit(
        "run", inventory, "--known-hosts", trusted, "--no-history", "--fail-on", "critical",
        "-o", f"json={report}", "--connect-timeout", "5", *options, state=tmp,
    )  # fmt: skip
    assert "Traceback" not in done.stderr, done.stderr
    hosts = {h["host"]: h["status"] for h in json.loads(report.read_text())["hosts"]}
    return done.returncode, done.stderr, hosts


@pytest.mark.sshd
def test_a_changed_host_key_is_exit_2_even_with_allow_unreachable(
    tmp_path: Path, sshd: SshdServer, refused_port: int
) -> None:
    impostor = known_hosts_entry(sshd.host, sshd.port, generate_key())
    inventory = _inventory(tmp_path, sshd, sshd.client_key, refused_port)
    code, stderr, hosts = _run(tmp_path, inventory, impostor, TOLERANT)
    assert hosts == {"localhost": "ok", "target": "host_key_changed", "down": "unreachable"}
    assert code == 2, stderr
    assert lines(stderr)[-3:] == [
        "fleetaudit: not audited: unreachable 1 (down)",
        "fleetaudit: not audited: host_key_changed 1 (target)",
        "fleetaudit: 3 hosts, 1 audited, 2 not audited, 0 findings, 0 at or above critical; "
        "exit 2: 1 host not audited for reasons --allow-unreachable does not accept "
        "(host_key_changed)",
    ]
    code, stderr, _ = _run(tmp_path, inventory, impostor)
    assert code == 2 and lines(stderr)[-1].endswith(
        "exit 2: 2 hosts not audited (--allow-unreachable would not accept host_key_changed)"
    )


@pytest.mark.sshd
def test_a_refused_audit_key_is_exit_2_even_with_allow_unreachable(
    tmp_path: Path, sshd: SshdServer, refused_port: int
) -> None:
    stranger = write_private_key(generate_key(), tmp_path / "stranger_key")
    inventory = _inventory(tmp_path, sshd, stranger, refused_port)
    code, stderr, hosts = _run(tmp_path, inventory, sshd.known_hosts_entry, TOLERANT)
    assert hosts == {"localhost": "ok", "target": "auth_failed", "down": "unreachable"}
    assert code == 2, stderr
    assert "fleetaudit: not audited: auth_failed 1 (target)" in lines(stderr)
    assert lines(stderr)[-1].endswith(
        "exit 2: 1 host not audited for reasons --allow-unreachable does not accept (auth_failed)"
    )


@pytest.mark.sshd
def test_unreachable_hosts_alone_are_accepted_and_still_named(
    tmp_path: Path, sshd: SshdServer, refused_port: int
) -> None:
    inventory = _inventory(tmp_path, sshd, sshd.client_key, refused_port)
    code, stderr, hosts = _run(tmp_path, inventory, sshd.known_hosts_entry, TOLERANT)
    assert hosts == {"localhost": "ok", "target": "ok", "down": "unreachable"}
    assert code == 0, stderr
    assert lines(stderr)[-2:] == [
        "fleetaudit: not audited: unreachable 1 (down)",
        "fleetaudit: 3 hosts, 2 audited, 1 not audited, 0 findings, 0 at or above critical; exit 0",
    ]


def test_the_hosts_not_audited_are_named_bounded_above_the_summary(
    tmp_path: Path, refused_port: int
) -> None:
    """Forty hosts down: one line names the first five and counts the rest; the summary
    line stays the last line, so `tail -n 20` of a cron log shows both."""
    inventory = tmp_path / "inventory.yaml"
    down = "".join(f"  h{i:04d}: {{address: 127.0.0.1, port: {refused_port}}}\n" for i in range(40))
    inventory.write_text("hosts:\n  localhost: {transport: local}\n" + down)
    done = fleetaudit(
        "run", inventory, "--no-history", "-o", f"json={tmp_path / 'r.json'}", state=tmp_path
    )
    assert done.returncode == 2, done.stderr
    assert lines(done.stderr)[-2:] == [
        "fleetaudit: not audited: unreachable 40 (h0000, h0001, h0002, h0003, h0004 and 35 more)",
        "fleetaudit: 41 hosts, 1 audited, 40 not audited, 0 findings, 0 at or above high; "
        "exit 2: 40 hosts not audited (--allow-unreachable accepts that)",
    ]


def test_a_host_name_cannot_drive_the_terminal(tmp_path: Path) -> None:
    """Host names in a merged report come from files: escaped like any remote text."""
    report = tmp_path / "r.json"
    evil = snapshot("x\x1b]0;pwned\x07", status=HostStatus.TIMEOUT)
    report.write_text(JsonFormatter().render(run_result((snapshot("ok1"), evil))))
    done = fleetaudit("merge", report, TOLERANT)
    assert "\x1b" not in done.stderr and "\x07" not in done.stderr
    assert "not audited: timeout 1 (x\\x1b]0;pwned\\x07)" in done.stderr


# --- the other commands that take the flag -----------------------------------------------


def test_merge_does_not_accept_a_changed_host_key(tmp_path: Path) -> None:
    report = tmp_path / "r.json"
    run = run_result(
        (
            snapshot("ok1"),
            snapshot("gone", status=HostStatus.UNRESOLVABLE),
            snapshot("mitm", status=HostStatus.HOST_KEY_CHANGED),
        )
    )
    report.write_text(JsonFormatter().render(run))
    done = fleetaudit("merge", report, TOLERANT, "-o", tmp_path / "merged.json")
    assert done.returncode == 2, done.stderr
    assert lines(done.stderr)[-3:] == [
        "fleetaudit: not audited: unresolvable 1 (gone)",
        "fleetaudit: not audited: host_key_changed 1 (mitm)",
        "fleetaudit: 3 hosts, 1 audited, 2 not audited, 0 findings, 0 at or above high; "
        "exit 2: 1 host not audited for reasons --allow-unreachable does not accept "
        "(host_key_changed)",
    ]
    reached = run.model_copy(update={"snapshots": run.snapshots[:2]})
    report.write_text(JsonFormatter().render(reached))
    assert fleetaudit("merge", report, TOLERANT, "-o", tmp_path / "m.json").returncode == 0


@pytest.mark.parametrize("command", ["run", "snapshot", "merge"])
def test_help_says_which_statuses_the_flag_accepts(command: str) -> None:
    text = " ".join(fleetaudit(command, "--help").stdout.replace("│", " ").split())
    assert (
        "Hosts that could not be reached (status unresolvable, unreachable, timeout, "
        "connection_lost) do not by themselves make exit 2." in text
    )
