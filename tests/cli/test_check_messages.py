"""What `fleetaudit check` tells the operator: a --group no rule names, the advice for a
capture judged without --privileged, and the waiver's ticket in the table."""

from __future__ import annotations

import json
import shutil
from importlib import resources
from pathlib import Path

from tests.runcli import fleetaudit

DEMO = Path(str(resources.files("fleetaudit").joinpath("data", "demo")))
CAPTURES = Path(__file__).parents[1] / "fixtures" / "captures"
DB_TIER = Path(__file__).parents[2] / "policies" / "db-tier.yaml"


def _db1(tmp_path: Path) -> Path:
    return Path(shutil.copy(DEMO / "db1.ss.txt", tmp_path / "db1.ss.txt"))


def _db1_with_ownerless_sockets(tmp_path: Path) -> Path:
    """A real listing with sockets no process holds (TIME-WAIT), as db1: judged without
    --privileged, their owners count as unknown."""
    return Path(shutil.copy(CAPTURES / "ss-tuanpe-root.txt", tmp_path / "db1.ss.txt"))


def test_a_group_no_rule_names_is_a_warning_with_the_close_name(tmp_path: Path) -> None:
    done = fleetaudit(
        "check", "--policy", DB_TIER, "--privileged", "--group", "dbb", _db1(tmp_path)
    )
    assert done.returncode == 1, done.stderr  # still judged: a warning, not an error
    [warning] = [line for line in done.stderr.splitlines() if "warning:" in line]
    assert "selects group 'dbb'" in warning and "did you mean 'db'?" in warning
    assert "the groups it names: cache, db, web" in warning


def test_a_group_the_policy_names_gets_no_warning(tmp_path: Path) -> None:
    done = fleetaudit("check", "--policy", DB_TIER, "--privileged", "--group", "db", _db1(tmp_path))
    assert "warning:" not in done.stderr
    assert "datastores-private-on-db-hosts" in done.stdout


def test_a_group_only_a_waiver_names_is_used(tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        "version: 1\nrules:\n"
        "  - {id: mysql-loopback, kind: bind-scope, severity: high, description: d,\n"
        "     match: {process: mysqld}, allow: [loopback]}\n"
        "waivers:\n"
        "  - {rule: mysql-loopback, select: {groups: [legacy]}, reason: r, expires: 2999-01-01}\n"
    )
    args = ("check", "--policy", policy, "--privileged", _db1(tmp_path))
    used = fleetaudit(*args, "--group", "legacy")
    assert used.returncode == 0 and "warning:" not in used.stderr
    unused = fleetaudit(*args, "--group", "web")
    assert "selects group 'web'" in unused.stderr and "the groups it names: legacy" in unused.stderr


def test_policy_explain_warns_about_the_group_too() -> None:
    done = fleetaudit("policy", "explain", "--host", "db1", "--group", "dbb", "--policy", DB_TIER)
    assert done.returncode == 0, done.stderr
    assert "selects group 'dbb'" in done.stderr and "did you mean 'db'?" in done.stderr


def _coverage_message(*args: str | Path) -> str:
    done = fleetaudit("check", "--format", "json", *args)
    findings = json.loads(done.stdout)["findings"]
    [coverage] = [f for f in findings if f["rule_id"] == "audit-coverage"]
    return str(coverage["message"])


def test_a_capture_without_privileged_is_told_how_to_take_it(tmp_path: Path) -> None:
    message = _coverage_message(_db1_with_ownerless_sockets(tmp_path))
    assert "Take the capture as root (`sudo ss -tuanpe`), or pass --privileged" in message
    assert "--privileged was not given" in message
    assert "sudo -n" not in message and "become" not in message


def test_an_inventory_host_with_become_gets_the_capture_advice(tmp_path: Path) -> None:
    inventory = tmp_path / "inventory.yaml"
    inventory.write_text("hosts:\n  db1: {groups: [db], become: true}\n")
    message = _coverage_message("--inventory", inventory, _db1_with_ownerless_sockets(tmp_path))
    assert "Take the capture as root" in message
    assert "sudo -n refused" not in message and "password" not in message


def test_a_capture_naming_every_owner_has_no_coverage_finding(tmp_path: Path) -> None:
    """Without --privileged, only owners may be missing: a listing naming every one lost
    nothing (QA: the finding said "0 of 21 sockets have an unknown owner")."""
    done = fleetaudit("check", "--format", "json", _db1(tmp_path))
    findings = json.loads(done.stdout)["findings"]
    assert [f for f in findings if f["rule_id"] == "audit-coverage"] == []


def test_the_table_note_gives_the_capture_advice(tmp_path: Path) -> None:
    done = fleetaudit("check", _db1(tmp_path))
    note = done.stdout.split("\n\n", 1)[0]
    assert "take the captures as root" in note and "become" not in note


def test_the_waived_section_shows_the_ticket(tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        "version: 1\nrules:\n"
        "  - {id: mysql-loopback, kind: bind-scope, severity: high, description: d,\n"
        "     match: {process: mysqld}, allow: [loopback]}\n"
        "waivers:\n"
        "  - {rule: mysql-loopback, reason: migration window, expires: 2999-01-01,\n"
        "     ticket: SEC-42}\n"
    )
    done = fleetaudit("check", "--policy", policy, "--privileged", _db1(tmp_path))
    assert done.returncode == 0, done.stderr
    waived = done.stdout[done.stdout.index("WAIVED") : done.stdout.index("RULES")]
    header, _, row = waived.splitlines()[1:4]
    assert header.split()[-2:] == ["ticket", "reason"]
    assert row.split()[-4:] == ["2999-01-01", "SEC-42", "migration", "window"]
