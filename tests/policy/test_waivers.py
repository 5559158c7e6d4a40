"""Waivers: accepted risks hide findings until they expire, and never silently."""

from __future__ import annotations

from datetime import date

import pytest

from fleetaudit.errors import ExitCode, PolicyError
from fleetaudit.model import LineError
from fleetaudit.model.enums import Severity
from fleetaudit.policy import evaluate
from fleetaudit.report import OutputFormat
from fleetaudit.verdict import verdict
from tests.factories import run_result, snapshot, sock
from tests.policy.builders import policy, unknown_owner

RULES = """\
version: 1
rules:
  - id: mysql-loopback
    kind: bind-scope
    severity: high
    description: mysqld must listen on loopback
    match: {process: mysqld}
    allow: [loopback]
"""
TODAY = date(2026, 11, 24)
DB3 = snapshot("db3", sock("0.0.0.0", 3306, "mysqld"))
DB4 = snapshot("db4", sock("0.0.0.0", 3306, "mysqld"))


def with_waiver(waiver: str) -> str:
    return RULES + "waivers:\n" + waiver


def test_active_waiver_marks_the_finding_and_it_stops_counting() -> None:
    rules = policy(
        with_waiver(
            "  - rule: mysql-loopback\n"
            "    select: {hosts: [db3]}\n"
            "    match: {port: 3306}\n"
            "    reason: replica seeding until the VPN link is up\n"
            "    expires: 2026-12-31\n"
            "    ticket: SEC-12\n"
        )
    )
    [waived] = evaluate(DB3, rules, TODAY)
    [other] = evaluate(DB4, rules, TODAY)
    assert waived.waived and waived.waiver is not None and waived.waiver.ticket == "SEC-12"
    assert not other.waived and other.waiver is None
    run = run_result((DB3, DB4), (waived, other))
    assert run.findings_at_or_above(Severity.HIGH) == (other,)
    assert verdict(run_result((DB3,), (waived,)), Severity.HIGH) is ExitCode.CLEAN


def test_expired_waiver_stops_hiding_and_the_reports_say_so() -> None:
    rules = policy(
        with_waiver("  - {rule: mysql-loopback, reason: temporary, expires: 2026-11-23}\n")
    )
    [finding] = evaluate(DB3, rules, TODAY)
    assert finding.waiver is not None and finding.waiver.expired and not finding.waived
    run = run_result((DB3,), (finding,))
    assert verdict(run, Severity.HIGH) is ExitCode.FINDINGS
    table = OutputFormat.TABLE.formatter().render(run)
    assert "waiver expired 2026-11-23: temporary" in table
    document = OutputFormat.JSON.formatter().render(run)
    assert '"expired": true' in document and '"waived": false' in document


def test_a_renewed_waiver_holds_though_the_expired_one_comes_first() -> None:
    """Appending the renewal below the old entry is the natural edit; the first covering
    waiver, expired, shadowed it: exit 1 with "waiver expired" (QA)."""
    rules = policy(
        with_waiver(
            "  - {rule: mysql-loopback, reason: old, expires: 2026-01-31}\n"
            "  - {rule: mysql-loopback, reason: older, expires: 2025-06-30}\n"
            "  - {rule: mysql-loopback, reason: renewed, expires: 2027-06-30, ticket: SEC-9}\n"
        )
    )
    [finding] = evaluate(DB3, rules, TODAY)
    assert finding.waived and finding.waiver is not None
    assert (finding.waiver.reason, finding.waiver.ticket) == ("renewed", "SEC-9")


def test_of_expired_waivers_only_the_one_that_ended_last_is_reported() -> None:
    rules = policy(
        with_waiver(
            "  - {rule: mysql-loopback, reason: older, expires: 2025-06-30}\n"
            "  - {rule: mysql-loopback, reason: old, expires: 2026-01-31}\n"
        )
    )
    [finding] = evaluate(DB3, rules, TODAY)
    assert not finding.waived and finding.waiver is not None
    assert (finding.waiver.reason, finding.waiver.expired) == ("old", True)


ALLOWLISTS = """\
version: 1
rules:
  - id: web-allowlist
    kind: allowlist
    severity: high
    description: what web hosts may run
    select: {groups: [web]}
    allow: [{process: nginx, port: [80, 443]}]
  - id: base-allowlist
    kind: allowlist
    severity: medium
    description: what every host may run
    select: {groups: [web, db]}
    allow: [{process: sshd, port: 22}]
"""


@pytest.mark.parametrize("named", ["web-allowlist", "base-allowlist"])
def test_a_waiver_may_name_any_allowlist_the_listener_was_checked_against(named: str) -> None:
    """Findings of allowlists applying together are filed under the first; a waiver naming
    the second (the list that should have allowed the listener) never matched (QA)."""
    rules = policy(
        ALLOWLISTS + "waivers:\n"
        f"  - {{rule: {named}, match: {{port: 23}}, reason: migration, expires: 2027-01-01}}\n"
    )
    web = snapshot(
        "web1", sock("0.0.0.0", 23, "inetd"), sock("0.0.0.0", 8080, "java"), groups=("web",)
    )
    telnet, other = evaluate(web, rules, TODAY)
    assert telnet.rule_id == "web-allowlist" and telnet.waived
    assert other.socket is not None and other.socket.local_port == 8080 and not other.waived


def test_a_waiver_naming_an_allowlist_that_does_not_apply_to_the_host_covers_nothing() -> None:
    rules = policy(
        ALLOWLISTS.replace("select: {groups: [web, db]}", "select: {groups: [db]}") + "waivers:\n"
        "  - {rule: base-allowlist, reason: migration, expires: 2027-01-01}\n"
    )
    web = snapshot("web1", sock("0.0.0.0", 23, "inetd"), groups=("web",))
    [finding] = evaluate(web, rules, TODAY)
    assert finding.rule_id == "web-allowlist" and finding.waiver is None


def test_waived_findings_stay_visible_in_every_format() -> None:
    rules = policy(
        with_waiver("  - {rule: mysql-loopback, reason: accepted, expires: 2027-01-01}\n")
    )
    [finding] = evaluate(DB3, rules, TODAY)
    run = run_result((DB3,), (finding,))
    table = OutputFormat.TABLE.formatter().render(run)
    assert "WAIVED (1, not counted in the exit code)" in table and "accepted" in table
    # the program the waiver hides (QA: the table named only the listener)
    waived_rows = table.split("WAIVED (1")[1]
    assert "process" in waived_rows and finding.process in waived_rows
    assert "FINDINGS\nnone" in table
    assert '"waived": true' in OutputFormat.JSON.formatter().render(run)


def test_waiver_matching_a_different_socket_does_not_hide() -> None:
    rules = policy(
        with_waiver(
            "  - {rule: mysql-loopback, match: {port: 3307}, reason: x, expires: 2027-01-01}\n"
        )
    )
    [finding] = evaluate(DB3, rules, TODAY)
    assert not finding.waived


@pytest.mark.parametrize(
    ("waiver", "line", "fragment"),
    [
        ("  - {rule: mysql-loopback, expires: 2027-01-01}\n", 10, "waivers.0.reason: required"),
        ("  - {rule: mysql-loopback, reason: '  ', expires: 2027-01-01}\n", 10, "waivers.0.reason"),
        ("  - {rule: mysql-loopback, reason: x}\n", 10, "waivers.0.expires: required"),
        ("  - {rule: mysql-loopback, reason: x, expires: someday}\n", 10, "waivers.0.expires"),
        ("  - {rule: nope, reason: x, expires: 2027-01-01}\n", 10, "does not define"),
        ("  - {rule: mysql-loopback, reason: x, expires: 2027-01-01, why: y}\n", 10, "unknown key"),
    ],
)
def test_waiver_errors_name_the_line_and_key(waiver: str, line: int, fragment: str) -> None:
    with pytest.raises(PolicyError) as caught:
        policy(with_waiver(waiver))
    assert caught.value.line == line
    assert fragment in str(caught.value)


def test_a_ticket_written_as_a_number_is_that_ticket() -> None:
    rules = policy(
        with_waiver(
            "  - {rule: mysql-loopback, reason: seeding, expires: 2026-12-31, ticket: 4521}\n"
        )
    )
    [waived] = evaluate(DB3, rules, TODAY)
    assert waived.waiver is not None and waived.waiver.ticket == "4521"


COVERAGE = """\
version: 1
rules:
  - {id: coverage, kind: coverage, description: blind spots hide findings}
waivers:
  - rule: coverage
    reason: legacy hosts are audited without root until sudo is rolled out
    expires: 2027-06-30
"""
# a legacy host with an owner unknown whose listing also had an unreadable line
LEGACY = snapshot(
    "legacy1",
    sock("0.0.0.0", 8080, "java"),
    unknown_owner("0.0.0.0", 22),
    parse_errors=(
        LineError(line=4, text="this is not a socket", reason="unknown Netid or State 'this'"),
    ),
)


def test_a_coverage_waiver_covers_only_the_gaps_it_names() -> None:
    """QA: waived for hosts audited without root, it also hid the high "line could not be
    read" finding, and nothing told the two apart."""
    named = policy(COVERAGE + "    gap: unprivileged\n")
    waived = {f.aspect: f.waived for f in evaluate(LEGACY, named, TODAY)}
    assert waived == {"unprivileged": True, "unread": False}
    both = policy(COVERAGE + "    gap: [unprivileged, unread]\n")
    assert all(f.waived for f in evaluate(LEGACY, both, TODAY))
    every = policy(COVERAGE)  # as before: no gap named, every gap waived (lint warns)
    assert all(f.waived for f in evaluate(LEGACY, every, TODAY))


def test_an_unknown_gap_is_an_error_naming_the_gaps() -> None:
    with pytest.raises(PolicyError) as caught:
        policy(COVERAGE + "    gap: unpriviledged\n")
    assert caught.value.line == 8
    assert "unknown gap 'unpriviledged'" in str(caught.value)
    assert "unprivileged, host-key, unread, partial, cut" in str(caught.value)


def test_the_waived_section_says_which_gap_each_row_is() -> None:
    run = run_result((LEGACY,), tuple(evaluate(LEGACY, policy(COVERAGE), TODAY)))
    table = OutputFormat.TABLE.formatter().render(run)
    waived = table[table.index("WAIVED") : table.index("RULES")]
    assert "legacy1: 1 line(s) of its listing could not be read" in waived
    assert "legacy1: ss ran as root but could not see the owning processes" in waived
