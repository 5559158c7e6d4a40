"""`fleetaudit policy lint FILE --inventory INV` on policies that are valid but judge
nothing: each warning at its file:line:column, exit 0, and a summary in plain English."""

from __future__ import annotations

from pathlib import Path

from tests.runcli import fleetaudit

COVERAGE = "  - {id: cov, kind: coverage, severity: medium, description: d}\n"


def test_policies_that_judge_nothing_are_warned_at_their_lines(tmp_path: Path) -> None:
    policy = tmp_path / "qa.yaml"
    policy.write_text(
        "version: 1\nrules:\n"
        + COVERAGE
        + "  - id: leaks\n    kind: forbidden\n    severity: high\n    description: d\n"
        + "    match: {state: CLOSE_WAIT}\n"
        + "  - id: telnet\n    kind: forbidden\n    severity: high\n    description: d\n"
        + "    match: {process: in.telnetd}\n"
        + "    select:\n      not: {groups: [lab-typo]}\n"
    )
    inventory = tmp_path / "inv.yaml"
    inventory.write_text("hosts:\n  web1: {groups: [web]}\n  lab1: {groups: [lab]}\n")
    done = fleetaudit("policy", "lint", policy, "--inventory", inventory)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert [line.split(": warning: ")[0] for line in lines] == [
        f"{policy}:8:5",
        f"{policy}:13:13",
        f"{policy}:15:22",
    ]
    assert "match can never hold: a rule of kind forbidden judges listeners" in lines[0]
    assert "rule 'telnet': match names a process but no port" in lines[1]
    assert "`not:` names group 'lab-typo', but the inventory has no group" in lines[2]
    assert done.stderr == f"fleetaudit: {policy}: valid; 3 rules, 0 waivers, 3 warnings\n"


def test_the_summary_counts_in_the_right_number(tmp_path: Path) -> None:
    policy = tmp_path / "one.yaml"
    policy.write_text(
        "version: 1\nrules:\n"
        + COVERAGE
        + "waivers:\n  - {rule: cov, reason: r, expires: 2001-01-01, gap: unread}\n"
    )
    done = fleetaudit("policy", "lint", policy)
    assert done.returncode == 0, done.stderr
    assert done.stderr == f"fleetaudit: {policy}: valid; 1 rule, 1 waiver, 1 warning\n"


def test_an_extending_policy_is_warned_in_its_own_file(tmp_path: Path) -> None:
    policy = tmp_path / "shop.yaml"
    policy.write_text(
        "version: 1\nextends: default\nrules:\n"
        "  - id: no-telnet\n    kind: allowlist\n    severity: high\n    description: d\n"
        "    select: {groups: [web]}\n    allow: [{port: 443}]\n"
    )
    done = fleetaudit("policy", "lint", policy)
    assert done.returncode == 0, done.stderr
    places = [line.split(": warning: ") for line in done.stdout.splitlines()]
    assert [(place, message.split(";")[0]) for place, message in places] == [
        (f"{policy}:5:5", "rule 'no-telnet' (kind allowlist) replaces the base policy's rule "
                          "of the same id, of kind forbidden, so the base's check is gone rather "
                          "than refined"),
        (f"{policy}:4:5", "allowlist 'no-telnet' shares hosts with the base policy's allowlist "
                          "'web-allowlist'"),
        (f"{policy}:4:5", "allowlist 'no-telnet' shares hosts with the base policy's allowlist "
                          "'base-allowlist'"),
    ]  # fmt: skip
