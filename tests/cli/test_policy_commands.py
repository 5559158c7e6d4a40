"""`fleetaudit policy lint` and `fleetaudit policy explain`."""

from __future__ import annotations

import shutil
from importlib import resources
from pathlib import Path

import pytest

from tests.runcli import fleetaudit

DEMO = Path(str(resources.files("fleetaudit").joinpath("data", "demo")))
FIXTURES = Path(__file__).parents[1] / "fixtures" / "captures"
RULE = "  - {id: %s, kind: forbidden, severity: high, description: d, match: {port: 23}%s}\n"


def test_lint_reports_errors_with_line_and_column(tmp_path: Path) -> None:
    policy = tmp_path / "p.yaml"
    policy.write_text("version: 1\nrules:\n  - {id: a, kind: forbiden, severity: high}\n")
    done = fleetaudit("policy", "lint", policy)
    assert done.returncode == 2
    assert f"{policy}:3:" in done.stderr and "unknown rule kind 'forbiden'" in done.stderr


def test_lint_warnings_point_at_their_lines(tmp_path: Path) -> None:
    policy = tmp_path / "p.yaml"
    policy.write_text(
        "version: 1\nrules:\n"
        + RULE % ("a", "")
        + RULE % ("b", "")
        + RULE % ("c", ", select: {groups: [dbz]}")
        + "waivers:\n  - {rule: a, reason: old, expires: 2001-01-01}\n"
    )
    inventory = tmp_path / "inv.yaml"
    inventory.write_text("hosts:\n  db1: {groups: [db]}\n")
    done = fleetaudit("policy", "lint", policy, "--inventory", inventory)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert any(line.startswith(f"{policy}:4:") and "repeats rule 'a'" in line for line in lines)
    assert any(f"{policy}:5:" in line and "no group 'dbz'" in line for line in lines)
    assert any(f"{policy}:7:" in line and "expired on 2001-01-01" in line for line in lines)


def test_lint_warnings_about_inherited_rules_point_into_the_base_file(tmp_path: Path) -> None:
    base = tmp_path / "base.yaml"
    base.write_text(
        "version: 1\nrules:\n"
        + RULE % ("kept", ", select: {groups: [dbz]}")
        + RULE % ("replaced", ", select: {groups: [dbz]}")
        + "waivers:\n  - {rule: kept, reason: old, expires: 2001-01-01}\n"
    )
    child = tmp_path / "child.yaml"
    child.write_text(
        "version: 1\nextends: base.yaml\nrules:\n"
        + RULE % ("replaced", ", select: {groups: [dbq]}")
        + RULE % ("added", ", select: {groups: [dbr]}")
        + "waivers:\n  - {rule: added, reason: old, expires: 2002-02-02}\n"
    )
    inventory = tmp_path / "inv.yaml"
    inventory.write_text("hosts:\n  db1: {groups: [db]}\n")
    done = fleetaudit("policy", "lint", child, "--inventory", inventory)
    assert done.returncode == 0, done.stderr
    file_and_line = {}
    for line in done.stdout.splitlines():
        place, message = line.split(": warning: ")
        file_and_line[message] = place.rsplit(":", 1)[0]  # without the column
    assert file_and_line == {
        "rule 'kept': no group 'dbz' in the inventory": f"{base}:3",
        "rule 'replaced': no group 'dbq' in the inventory": f"{child}:4",
        "rule 'added': no group 'dbr' in the inventory": f"{child}:5",
        "waiver for 'kept' expired on 2001-01-01; it no longer hides anything": f"{base}:6",
        "waiver for 'added' expired on 2002-02-02; it no longer hides anything": f"{child}:7",
        "the policy has no coverage rule, so hosts the audit could not see completely "
        "(owner-unknown sockets, no host-key check, unread lines) pass silently; add a "
        "rule of kind coverage, as the default policy has": f"{child}:3",
    }


def test_shipped_policies_lint_clean() -> None:
    for policy in sorted((Path(__file__).parents[2] / "policies").glob("*.yaml")):
        done = fleetaudit("policy", "lint", policy)
        assert done.returncode == 0, done.stderr
        assert "warning" not in done.stdout, done.stdout


def test_explain_shows_rules_and_socket_verdicts(tmp_path: Path) -> None:
    capture = shutil.copy(DEMO / "db1.ss.txt", tmp_path / "db1.ss.txt")
    done = fleetaudit(
        "policy", "explain", "--host", "db1", capture, "--group", "db", "--privileged"
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "applies      datastores-private-on-db-hosts" in out
    assert "not applied  mysql-loopback" in out and "not (in group db or cache)" in out
    assert "FAIL   datastores-private-on-db-hosts (high): mysqld listens on 0.0.0.0:3306" in out
    assert "allowed by db-allowlist entry 1" in out


def test_explain_without_capture_lists_rules_only() -> None:
    done = fleetaudit("policy", "explain", "--host", "web7", "--group", "web")
    assert done.returncode == 0 and "applies      web-allowlist" in done.stdout
    assert "SOCKETS" not in done.stdout


def test_explain_refuses_a_host_the_inventory_lacks(tmp_path: Path) -> None:
    inventory = tmp_path / "inv.yaml"
    inventory.write_text("hosts:\n  db1: {groups: [db]}\n  web1: {groups: [web]}\n")
    capture = shutil.copy(DEMO / "db1.ss.txt", tmp_path / "db1.ss.txt")
    for extra in ((), (capture,)):
        done = fleetaudit("policy", "explain", "--host", "db2", "--inventory", inventory, *extra)
        assert done.returncode == 2, done.stdout
        assert f"{inventory}: no host 'db2' in this inventory (did you mean 'db1'?)" in done.stderr
        assert done.stdout == ""
    done = fleetaudit("policy", "explain", "--host", "db1", "--inventory", inventory)
    assert done.returncode == 0 and "host db1 (groups: db;" in done.stdout


def test_explain_and_check_refuse_an_empty_host_and_explain_a_group_beside_the_inventory(
    tmp_path: Path,
) -> None:
    """QA: `--group db` beside `--inventory` was ignored by explain (a reviewer saw the
    web rules of the inventory's host, not the db rules asked for), which check refuses;
    an empty --host (an unset $HOST) was taken for no --host, or for a host named ''."""
    inventory = tmp_path / "inv.yaml"
    inventory.write_text("hosts:\n  db1: {groups: [web]}\n")
    capture = shutil.copy(DEMO / "db1.ss.txt", tmp_path / "db1.ss.txt")
    done = fleetaudit(
        "policy", "explain", "--host", "db1", "--inventory", inventory, "--group", "db"
    )
    assert done.returncode == 2 and done.stdout == "", done.stdout
    assert "--group and --inventory both give the host's groups; use one" in done.stderr
    for command in (("policy", "explain", "--host", ""), ("check", capture, "--host", "")):
        done = fleetaudit(*command)
        assert done.returncode == 2 and done.stdout == "", (command, done.stdout)
        assert "--host" in done.stderr and "Traceback" not in done.stderr, done.stderr


def test_lint_warns_about_a_policy_without_rules(tmp_path: Path) -> None:
    policy = tmp_path / "p.yaml"
    policy.write_text("version: 1\n")
    done = fleetaudit("policy", "lint", policy)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"{policy}:1:1: warning: the policy has no rules")


def test_lint_names_the_extends_line_of_a_missing_base(tmp_path: Path) -> None:
    policy = tmp_path / "p.yaml"
    policy.write_text("version: 1\nextends: nosuch\n")
    done = fleetaudit("policy", "lint", policy)
    assert done.returncode == 2
    assert done.stderr.startswith(
        f"fleetaudit: error: {policy}:2:1: extends: cannot read 'nosuch' "
        f"(resolved to {tmp_path.resolve() / 'nosuch'}): No such file or directory"
    )
    assert "Traceback" not in done.stderr


def test_judging_with_a_policy_that_has_lint_warnings_says_so_once(tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text("version: 1\nrules:\n" + RULE % ("no-telnet", ""))  # no coverage rule
    capture = tmp_path / "web1.txt"
    capture.write_text((FIXTURES / "ss-tuanpe-root.txt").read_text())
    done = fleetaudit("check", capture, "--policy", policy, "--privileged")
    assert done.returncode in (0, 1), done.stderr
    notices = [line for line in done.stderr.splitlines() if "lint warning" in line]
    assert notices == [f"fleetaudit: policy {policy} has 1 lint warning; run "
                       f"`fleetaudit policy lint {policy}`"]  # fmt: skip


def test_an_empty_policy_variable_is_refused_not_taken_as_unset(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    capture = tmp_path / "web1.txt"
    capture.write_text((FIXTURES / "ss-tuanpe-root.txt").read_text())
    monkeypatch.setenv("FLEETAUDIT_POLICY", "")
    done = fleetaudit("check", capture, "--privileged")
    assert done.returncode == 2
    assert "FLEETAUDIT_POLICY is set but empty" in done.stderr


def test_lint_says_once_what_several_built_in_rules_have_in_common(tmp_path: Path) -> None:
    """The built-in datastore rules all exempt group 'cache': an inventory without one got
    a warning per rule, about a file the user cannot edit (QA)."""
    policy, inventory = tmp_path / "p.yaml", tmp_path / "inv.yaml"
    policy.write_text("version: 1\nextends: default\nrules: []\n")
    inventory.write_text("hosts:\n  db1: {address: 127.0.0.1, groups: [db]}\n")
    done = fleetaudit("policy", "lint", policy, "--inventory", inventory)
    assert done.returncode == 0, done.stderr
    cache = [line for line in done.stdout.splitlines() if "group 'cache'" in line]
    assert len(cache) == 2, done.stdout  # the five rules' `not:` as one, and the db rule
    assert cache[0].startswith("built-in fleetaudit/data/default.yaml:")
    assert "rules 'mysql-loopback', 'postgres-loopback', 'redis-loopback'" in cache[0]
    assert "to change a rule of it, write one with its id in yours" in cache[0]
