"""`policy lint` and `inventory check` name every problem of a file in one run: a policy
with five broken rules took five edit-and-rerun rounds, each naming only the first."""

from __future__ import annotations

from pathlib import Path

from tests.runcli import fleetaudit

BROKEN_RULES = """\
version: 1
rules:
  - id: a
    kind: forbidden
    severity: hgih
    description: telnet
    match: {port: 23}
  - id: b
    kind: forbiden
    severity: high
    description: ftp
  - id: c
    kind: forbidden
    severity: high
    description: rsh
    mach: {port: 514}
  - id: d
    kind: forbidden
    severity: high
    description: good
    match: {port: 69}
  - id: e
    kind: forbidden
    severity: high
    description: tftp
    match: {port: 69, prot: udp}
"""


def error_lines(stderr: str) -> list[str]:
    """The error lines, without their "fleetaudit: error: " and the file's path."""
    said = [line for line in stderr.splitlines() if line.startswith("fleetaudit: error: ")]
    return [line.removeprefix("fleetaudit: error: ").split("/")[-1] for line in said]


def test_lint_names_every_broken_rule_in_file_order(tmp_path: Path) -> None:
    policy = tmp_path / "p.yaml"
    policy.write_text(BROKEN_RULES)
    done = fleetaudit("policy", "lint", policy)
    assert done.returncode == 2
    said = error_lines(done.stderr)
    assert [line.split(":")[1] for line in said] == ["5", "9", "16", "26"], said
    assert "rules.0.severity: Input should be" in said[0]
    assert "rules.1.kind: unknown rule kind 'forbiden'" in said[1]
    # the misspelt required key is named once, as a misspelling, not also as missing
    assert "rules.2.mach: unknown key (did you mean 'match'? it is required)" in said[2]
    assert "rules.4.match.prot: unknown key" in said[3]


def test_every_empty_value_and_every_duplicate_id_at_once(tmp_path: Path) -> None:
    policy = tmp_path / "p.yaml"
    rule = "  - {id: %s, kind: forbidden, severity: high, description: d, match: {port: %s}}\n"
    policy.write_text("version: 1\nrules:\n" + rule % ("a", "") + rule % ("b", ""))
    said = error_lines(fleetaudit("policy", "lint", policy).stderr)
    assert [line.split(": ")[:2] for line in said] == [
        ["p.yaml:3:70", "rules.0.match.port"],
        ["p.yaml:4:70", "rules.1.match.port"],
    ]
    policy.write_text("version: 1\nrules:\n" + "".join(rule % (i, 23) for i in "aabcc"))
    said = error_lines(fleetaudit("policy", "lint", policy).stderr)
    assert ["duplicate rule id 'a' (first used on line 3)" in said[0], len(said)] == [True, 2]
    assert "duplicate rule id 'c' (first used on line 6)" in said[1]


def test_every_broken_waiver_at_once(tmp_path: Path) -> None:
    policy = tmp_path / "p.yaml"
    policy.write_text(
        "version: 1\nrules:\n"
        "  - {id: a, kind: forbidden, severity: high, description: d, match: {port: 23}}\n"
        "waivers:\n"
        "  - {rule: b, select: {hosts: [web1]}, reason: r, expires: 2030-01-01}\n"
        "  - {rule: a, select: {hosts: [web1]}, expires: 2030-12-01}\n"
    )
    said = error_lines(fleetaudit("policy", "lint", policy).stderr)
    assert len(said) == 2, said
    assert ":5:" in said[0] and "names rule 'b', which this policy does not define" in said[0]
    assert ":6:" in said[1] and "waivers.1.reason: required key is missing" in said[1]


def test_inventory_check_names_every_broken_host(tmp_path: Path) -> None:
    inventory = tmp_path / "inv.yaml"
    inventory.write_text(
        "hosts:\n"
        "  web1: {address: 127.0.0.1, prot: 22}\n"
        "  web2: {address: 127.0.0.1, port: twenty-two}\n"
        "  web3: {address: 127.0.0.1}\n"
        "groups:\n"
        "  web: {hosts: [web1, web3], varz: {role: web}}\n"
    )
    done = fleetaudit("inventory", "check", inventory)
    assert done.returncode == 2
    said = error_lines(done.stderr)
    assert [line.split(": ")[:2] for line in said] == [
        ["inv.yaml:2:30", "hosts.web1.prot"],
        ["inv.yaml:3:30", "hosts.web2.port"],
        ["inv.yaml:6:30", "groups.web.varz"],
    ], said


def test_a_file_of_hundreds_of_problems_names_twenty_and_counts_the_rest(
    tmp_path: Path,
) -> None:
    inventory = tmp_path / "inv.yaml"
    inventory.write_text(
        "hosts:\n" + "".join(f"  h{i}: {{address: 127.0.0.1, prot: 22}}\n" for i in range(300))
    )
    said = error_lines(fleetaudit("inventory", "check", inventory).stderr)
    assert len(said) == 22  # the first, 20 more, and the count
    assert said[-1] == "and 279 more problem(s) in the same file"


def test_every_yaml_level_problem_at_once(tmp_path: Path) -> None:
    """Duplicate keys, impossible dates and ambiguous numbers are found while the YAML is
    read: each stopped the reading, so a file with three took three runs."""
    inventory = tmp_path / "inv.yaml"
    inventory.write_text(
        "x: &x {address: 127.0.0.1, port: 0x16}\n"  # met twice below: said once
        "hosts:\n"
        "  web1: {address: 127.0.0.1, port: 022}\n"
        "  web1: {address: 127.0.0.2}\n"
        "  web2: {address: 127.0.0.3, labels: {since: 2026-13-01}}\n"
        "  web3: *x\n"
        "  web4: *x\n"
    )
    said = error_lines(fleetaudit("inventory", "check", inventory).stderr)
    assert [line.split(": ")[:2] for line in said] == [
        ["inv.yaml:1:34", "x.port"],
        ["inv.yaml:3:36", "hosts.web1.port"],
        ["inv.yaml:4:3", "hosts.web1"],
        ["inv.yaml:5:46", "hosts.web2.labels.since"],
    ], said
