"""Policy lint: valid policies that cannot do what their author meant get a warning."""

from __future__ import annotations

from datetime import date

import pytest

from fleetaudit.policy import parse_policy
from fleetaudit.policy.lint import glob_problem, lint

TODAY = date(2026, 11, 24)
RULE = "  - {id: r, kind: forbidden, severity: high, description: d, %s}\n"
COVERAGE = "  - {id: cov, kind: coverage, severity: medium, description: d}\n"


def warnings_for(body: str) -> list[str]:
    """The warnings about one rule, in a policy that has a coverage rule too."""
    policy = parse_policy("version: 1\nrules:\n" + RULE % body + COVERAGE, "p.yaml")
    return [warning.message for warning in lint(policy, TODAY)]


def test_a_policy_without_rules_is_a_gate_that_never_fails() -> None:
    found = lint(parse_policy("version: 1\n", "p.yaml"), TODAY)
    assert [w.loc for w in found] == [("rules",)]
    assert "no rules" in found[0].message and "never fail" in found[0].message


@pytest.mark.parametrize(
    "match",
    [
        "{port: 23, not: {port: 23}}",
        "{port: 23, proto: tcp, not: {port: 23}}",
        "{port: 23, not: {port: '1-100'}}",
        "{port: 23, scope: any, not: {scope: [any, public]}}",
        "{process: sshd, port: 22, not: {process: [sshd, dropbear]}}",
        "{process: {regex: '^x'}, not: {process: {regex: '^x'}}}",
        "{family: ipv4, uid: 0, not: {family: [ipv4, ipv6], uid: [0, 33]}}",
    ],
)
def test_a_match_whose_not_repeats_its_conditions_never_holds(match: str) -> None:
    assert any("can never hold" in text for text in warnings_for(f"match: {match}"))


@pytest.mark.parametrize(
    "match",
    [
        "{port: [23, 24], not: {port: 23}}",  # 24 still matches
        "{port: 23, not: {port: 23, proto: tcp}}",  # UDP 23 still matches
        "{port: 23, not: {process: telnetd}}",  # another process on 23 still matches
        "{port: 23, not: {port: 23, not: {scope: loopback}}}",  # loopback 23 still matches
        # a port too: a process-only match gets a warning of its own (test_lint_gaps.py)
        "{port: 80, process: {regex: '^x'}, not: {process: {regex: '^xy'}}}",
        "{port: 23, not: {scope: loopback}}",
    ],
)
def test_a_match_that_can_hold_gets_no_warning(match: str) -> None:
    assert warnings_for(f"match: {match}") == []


def test_never_holding_allowlist_entries_and_waiver_matches_are_named() -> None:
    policy = parse_policy(
        "version: 1\nrules:\n"
        "  - id: l\n    kind: allowlist\n    severity: high\n    description: d\n"
        "    allow:\n      - {port: 22}\n      - {port: 80, not: {port: 80}}\n"
        "waivers:\n  - {rule: l, match: {uid: 0, not: {uid: 0}}, reason: r, expires: 2999-01-01}\n",
        "p.yaml",
    )
    found = {w.loc: w.message for w in lint(policy, TODAY)}
    assert "allow entry 2: match can never hold" in found[("rules", 0, "allow", 1, "not")]
    assert "waiver for 'l': match can never hold" in found[("waivers", 0, "match", "not")]


def test_an_empty_list_in_a_match_matches_no_socket() -> None:
    assert warnings_for("match: {proto: []}") == [
        "rule 'r': match has an empty proto list, so it matches no socket"
    ]


@pytest.mark.parametrize(
    ("glob", "problem"),
    [
        ("[", "no ']' closes"),
        ("db[1", "no ']' closes"),
        ("db[]", "no ']' closes"),  # fnmatch takes that ']' as a member of the class
        ("db[!]", "no ']' closes"),
        ("", "empty"),
        ("db[12]", None),
        ("db[!]]x", None),
        ("db[]]", None),
        ("web*", None),
    ],
)
def test_malformed_host_globs(glob: str, problem: str | None) -> None:
    found = glob_problem(glob)
    assert found is None if problem is None else (found is not None and problem in found)


def test_a_malformed_glob_is_a_warning_without_an_inventory_even_under_not() -> None:
    texts = warnings_for("select: {not: {hosts: [ok, '[']}}, match: {port: 23}")
    assert texts == [
        "rule 'r': host glob '[' has a '[' that no ']' closes, so fnmatch reads it literally"
    ]


def test_a_policy_without_a_coverage_rule_gets_one_warning_at_rules() -> None:
    policy = parse_policy("version: 1\nrules:\n" + RULE % "match: {port: 23}", "p.yaml")
    found = lint(policy, TODAY)
    assert [(w.loc, w.source) for w in found] == [(("rules",), "p.yaml")]
    assert "no coverage rule" in found[0].message and "pass silently" in found[0].message


def test_a_coverage_rule_inherited_from_the_default_counts() -> None:
    policy = parse_policy("version: 1\nextends: default\nremove: [no-tftp]\n", "p.yaml")
    assert lint(policy, TODAY) == []
    removed = parse_policy("version: 1\nextends: default\nremove: [audit-coverage]\n", "p.yaml")
    assert ["no coverage rule" in w.message for w in lint(removed, TODAY)] == [True]


@pytest.mark.parametrize(
    ("rule", "gap", "warned"),
    [
        ("cov", "", "it covers every gap the coverage rule reports, unread lines and unverified"),
        ("cov", ", gap: unprivileged", None),
        ("r", ", gap: unread", "only a coverage rule reports gaps: a forbidden rule's findings"),
    ],
)
def test_lint_says_what_a_waiver_of_coverage_gaps_covers(
    rule: str, gap: str, warned: str | None
) -> None:
    waiver = f"waivers:\n  - {{rule: {rule}, reason: x, expires: 2999-01-01{gap}}}\n"
    text = "version: 1\nrules:\n" + RULE % "match: {port: 23}" + COVERAGE + waiver
    found = [w.message for w in lint(parse_policy(text, "p.yaml"), TODAY)]
    assert [m for m in found if "gap" in m] == (
        [] if warned is None else [m for m in found if warned in m]
    )
    assert warned is None or any(warned in m for m in found)
