"""Waivers: accepted risks hide findings until they expire, and never silently."""

from __future__ import annotations

from datetime import date

import pytest

from fleetaudit.errors import ExitCode, PolicyError
from fleetaudit.model.enums import Severity
from fleetaudit.policy import evaluate
from fleetaudit.report import OutputFormat
from fleetaudit.verdict import verdict
from tests.factories import run_result, snapshot, sock
from tests.policy.builders import policy

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


def test_waived_findings_stay_visible_in_every_format() -> None:
    rules = policy(
        with_waiver("  - {rule: mysql-loopback, reason: accepted, expires: 2027-01-01}\n")
    )
    [finding] = evaluate(DB3, rules, TODAY)
    run = run_result((DB3,), (finding,))
    table = OutputFormat.TABLE.formatter().render(run)
    assert "WAIVED (1, not counted in the exit code)" in table and "accepted" in table
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
