"""The loader: every mistake in a policy file is an error naming its file, line and key."""

from pathlib import Path

import pytest

from fleetaudit.errors import PolicyError
from fleetaudit.model import Severity
from fleetaudit.policy import load_policy
from fleetaudit.policy.rules import AllowlistRule, BindScopeRule

GOOD = """\
version: 1
name: prod
rules:
  - id: db-loopback
    kind: bind-scope
    severity: high
    description: databases on loopback only
    match:
      process: mysqld
      port: 3306
    allow: [loopback]
"""
#  line numbers above:  process = 9, port = 10, allow = 11


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "policy.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def load_error(tmp_path: Path, text: str) -> PolicyError:
    with pytest.raises(PolicyError) as caught:
        load_policy(write(tmp_path, text))
    return caught.value


def test_a_valid_file_loads_with_name_source_and_typed_rules(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD)
    policy = load_policy(path)
    assert (policy.name, policy.source, policy.version) == ("prod", str(path), 1)
    [rule] = policy.rules
    assert isinstance(rule, BindScopeRule)
    assert rule.severity is Severity.HIGH


def test_name_defaults_to_the_file_name(tmp_path: Path) -> None:
    path = tmp_path / "edge-hosts.yaml"
    path.write_text(GOOD.replace("name: prod\n", ""), encoding="utf-8")
    assert load_policy(path).name == "edge-hosts"


@pytest.mark.parametrize(
    ("old", "new", "line", "key", "says"),
    [
        ("    allow:", "    alow: x\n    allow:", 11, "rules.0.alow", "unknown key"),
        ("      port: 3306", "      prot: 3306", 10, "rules.0.match.prot", "unknown key"),
        ("version: 1\nname: prod", "version: 1\nnmae: prod", 2, "nmae", "unknown key"),
        ("port: 3306", "port: {a: 1}", 10, "rules.0.match.port", "not a port"),
        ("severity: high", "severity: severe", 6, "rules.0.severity", "'critical'"),
        (
            "      port: 3306",
            "      port: 3306\n      proto: sctp",
            11,
            "rules.0.match.proto.0",
            "'tcp' or 'udp'",
        ),
        ("allow: [loopback]", "allow: [loopbak]", 11, "rules.0.allow.0", "neither a scope"),
        (
            "process: mysqld",
            "process: {regex: 'my(sql'}",
            9,
            "rules.0.match.process.regex",
            "invalid regular expression",
        ),
        ("port: 3306", "port: 6063-6000", 10, "rules.0.match.port", "starts after it ends"),
        ("port: 3306", "port: [22, 'x-y']", 10, "rules.0.match.port", "not a port or a range"),
        ("port: 3306", "port: 70000", 10, "rules.0.match.port", "outside 1-65535"),
        ("kind: bind-scope", "kind: bindscope", 5, "rules.0.kind", "unknown rule kind"),
        (
            "    description: databases on loopback only\n",
            "",
            4,
            "rules.0.description",
            "required key is missing",
        ),
        (
            "    description: databases on loopback only\n",
            "    descripton: databases on loopback only\n",
            7,
            "rules.0.descripton",
            "unknown key (did you mean 'description'? it is required)",
        ),
        ("kind: bind-scope", "knd: bind-scope", 5, "rules.0.knd", "did you mean 'kind'?"),
        ("version: 1", "versoin: 1", 1, "versoin", "did you mean 'version'? it is required"),
        ("id: db-loopback", "id: 'db loopback'", 4, "rules.0.id", "use letters, digits"),
        ("version: 1", "version: 2", 1, "version", "unsupported policy format version 2"),
        (
            "    match:",
            "    select: {group: [db]}\n    match:",
            8,
            "rules.0.select.group",
            "unknown key",
        ),
    ],
)
def test_mistakes_are_reported_at_their_line_and_key(
    tmp_path: Path, old: str, new: str, line: int, key: str, says: str
) -> None:
    assert old in GOOD
    error = load_error(tmp_path, GOOD.replace(old, new, 1))
    assert (error.line, error.key) == (line, key)
    assert says in error.message
    assert str(error).startswith(f"{tmp_path / 'policy.yaml'}:{line}:")


def test_duplicate_rule_id_points_at_the_second_and_names_the_first(tmp_path: Path) -> None:
    second = GOOD.split("rules:\n")[1]
    error = load_error(tmp_path, GOOD + second)
    assert (error.line, error.key) == (12, "rules.1.id")
    assert "duplicate rule id 'db-loopback' (first used on line 4)" in error.message


def test_missing_version_is_an_error(tmp_path: Path) -> None:
    error = load_error(tmp_path, GOOD.replace("version: 1\n", ""))
    assert (error.line, error.key) == (1, "version")
    assert "version: 1" in error.message


def test_rule_without_kind_lists_the_kinds(tmp_path: Path) -> None:
    error = load_error(tmp_path, GOOD.replace("    kind: bind-scope\n", ""))
    assert error.key == "rules.0.kind"
    assert "bind-scope, allowlist, backlog, queue, forbidden, coverage" in error.message


def test_thresholds_are_checked(tmp_path: Path) -> None:
    text = "version: 1\nrules:\n  - {id: q, kind: queue, severity: low, description: d}\n"
    error = load_error(tmp_path, text)
    assert error.line == 3
    assert "recv_bytes, send_bytes or both" in error.message


def test_yaml_duplicate_keys_are_errors_not_last_one_wins(tmp_path: Path) -> None:
    error = load_error(tmp_path, GOOD.replace("    allow:", "    severity: low\n    allow:"))
    assert (error.line, error.key) == (11, "rules.0.severity")


@pytest.mark.parametrize("text", ["", "- just\n- a list\n", "just text\n"])
def test_a_file_that_is_not_a_mapping_is_an_error(tmp_path: Path, text: str) -> None:
    assert "a policy is a mapping" in load_error(tmp_path, text).message


def test_unreadable_file_is_a_policy_error(tmp_path: Path) -> None:
    with pytest.raises(PolicyError) as raised:
        load_policy(tmp_path / "missing.yaml")
    assert raised.value.message == "cannot read file: No such file or directory"


def test_allowlist_entries_are_matchers_with_the_same_checks(tmp_path: Path) -> None:
    text = (
        "version: 1\nrules:\n  - id: web\n    kind: allowlist\n    severity: low\n"
        "    description: d\n    allow:\n      - {process: nginx, port: 80}\n"
        "      - {process: sshd, prt: 22}\n"
    )
    error = load_error(tmp_path, text)
    assert (error.line, error.key) == (9, "rules.0.allow.1.prt")
    text_ok = text.replace("prt: 22", "port: 22")
    [rule] = load_policy(write(tmp_path, text_ok)).rules
    assert isinstance(rule, AllowlistRule) and len(rule.allow) == 2
