"""CSV, JSON Lines and Markdown read back by their consumers (the csv module, json,
markdown-it-py as GitHub-flavoured Markdown with autolinks) say what the run saw: hosts it
could not audit, how it ended, expired and standing waivers; and hostile remote text stays
text. The HTML report's share is in test_html_truth.py."""

from __future__ import annotations

import csv
import html
import io
import json
import os
import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fleetaudit.model import Finding, HostSnapshot, HostStatus, RunResult, Severity
from fleetaudit.model.run import in_report_order
from fleetaudit.policy import evaluate, load_policy
from fleetaudit.report import OutputFormat
from fleetaudit.report.markdown import md
from tests.factories import finding, run_result, snapshot, sock

markdown_it = pytest.importorskip("markdown_it")

TODAY = date(2026, 11, 24)
POLICY = """\
version: 1
extends: default
waivers:
  - rule: no-telnet
    select: {hosts: [legacy1]}
    reason: telnet kept for the old switch console
    expires: 2026-01-31
    ticket: SEC-11
  - rule: no-telnet
    select: {hosts: [legacy2]}
    reason: vendor appliance, replaced in Q1
    expires: 2999-12-31
    ticket: SEC-22
"""


def waiver_run(tmp_path: Path) -> RunResult:
    """Two hosts breaking ``no-telnet``, judged by the real policy engine: legacy1's waiver
    expired on 2026-01-31, legacy2's holds."""
    path = tmp_path / "policy.yaml"
    path.write_text(POLICY)
    policy = load_policy(path)
    hosts = tuple(snapshot(name, sock("0.0.0.0", 23, "inetd")) for name in ("legacy1", "legacy2"))
    found = [f for host in hosts for f in evaluate(host, policy, TODAY) if f.rule_id == "no-telnet"]
    ordered_hosts, findings = in_report_order(hosts, found)
    return run_result(ordered_hosts, findings)


def failed(name: str, status: HostStatus, error: str) -> HostSnapshot:
    return snapshot(name, status=status, error=error, tool=None, privilege=None)


def not_audited_run() -> RunResult:
    """A run stopped by SIGTERM with hosts that could not be audited and no finding."""
    hosts = (
        snapshot("web1", sock("127.0.0.1", 8080, "app")),
        failed("db1", HostStatus.AUTH_FAILED, "the server refused the key"),
        failed("gone1", HostStatus.UNRESOLVABLE, "name not known"),
        failed("web9", HostStatus.INTERRUPTED, "the run was stopped by SIGTERM"),
    )
    return run_result(hosts, interrupted_by="SIGTERM")


def csv_rows(run: RunResult) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(OutputFormat.CSV.formatter().render(run))))


def gfm() -> Any:
    """markdown-it-py as GitHub renders pull requests: GFM tables and autolinks."""
    try:
        import linkify_it  # noqa: F401
    except ImportError:
        if os.environ.get("CI") == "true":
            pytest.fail("CI installs linkify-it-py (the test extra) for the Markdown tests")
        pytest.skip("needs linkify-it-py (pip install -e '.[test]')")
    return markdown_it.MarkdownIt("gfm-like")


def cells(rendered: str) -> list[list[str]]:
    """The text of every table row's cells, as a reader sees it."""
    rows = re.findall(r"<tr>(.*?)</tr>", rendered, re.S)
    return [
        [html.unescape(re.sub(r"<[^>]+>", "", c)) for c in re.findall(r"<t[dh]>(.*?)</t[dh]>", r)]
        for r in rows
    ]


# CSV ---------------------------------------------------------------------------------------


def test_csv_names_every_host_not_audited_in_its_own_row() -> None:
    rows = csv_rows(not_audited_run())
    assert [(r["severity"], r["host"], r["rule_id"]) for r in rows] == [
        ("not-audited", "db1", "host-status:auth_failed"),
        ("not-audited", "gone1", "host-status:unresolvable"),
        ("not-audited", "web9", "host-status:interrupted"),
    ]
    assert rows[0]["message"] == "not audited (auth_failed): the server refused the key"
    assert "SIGTERM" in rows[2]["message"]
    # a filter on the severity or rule column never takes these rows for findings
    assert not {r["severity"] for r in rows} & {s.value for s in Severity}
    clean = csv_rows(run_result((snapshot("web1", sock("127.0.0.1", 8080, "app")),)))
    assert clean == []


def test_csv_puts_hosts_not_audited_before_findings() -> None:
    telnet = sock("0.0.0.0", 23, "inetd")
    run = run_result(
        (snapshot("a1", telnet), failed("z9", HostStatus.TIMEOUT, "no answer")),
        (finding("a1", telnet),),
    )
    assert [r["severity"] for r in csv_rows(run)] == ["not-audited", "high"]


def test_csv_says_a_waiver_expired(tmp_path: Path) -> None:
    rows = {r["host"]: r for r in csv_rows(waiver_run(tmp_path))}
    expired, waived = rows["legacy1"], rows["legacy2"]
    assert expired["message"].startswith(
        "[waiver expired 2026-01-31: telnet kept for the old switch console] "
    )
    assert expired["waived"] == "no" and waived["waived"] == "yes"
    assert "expired" not in waived["message"]


# JSON Lines --------------------------------------------------------------------------------


def test_jsonl_starts_with_a_run_record() -> None:
    formatter = OutputFormat.JSONL.formatter()
    lines = [json.loads(line) for line in formatter.render(not_audited_run()).splitlines()]
    run = lines[0]
    assert [line["type"] for line in lines] == ["run", "host", "host", "host", "host"]
    assert run["run_id"] == lines[1]["run_id"] and run["time"] == lines[1]["time"]
    assert run["interrupted_by"] == "SIGTERM" and run["policy"] == "test"
    assert (run["hosts_total"], run["hosts_audited"], run["hosts_not_audited"]) == (4, 1, 3)
    assert run["hosts_by_status"]["auth_failed"] == 1 and run["findings"] == 0
    assert run["exit_code"] is None  # the run alone does not know --fail-on
    assert set(lines[1]) == {
        "run_id", "time", "type", "host", "status", "error", "privilege", "listeners"
    }  # fmt: skip


def test_jsonl_run_record_carries_the_exit_code_it_is_given() -> None:
    from fleetaudit.report.jsonl import JsonLinesFormatter

    first = JsonLinesFormatter(exit_code=143).render(not_audited_run()).splitlines()[0]
    assert json.loads(first)["exit_code"] == 143


def test_jsonl_says_a_waiver_expired(tmp_path: Path) -> None:
    lines = [
        json.loads(line)
        for line in OutputFormat.JSONL.formatter().render(waiver_run(tmp_path)).splitlines()
    ]
    found = {line["host"]: line for line in lines if line["type"] == "finding"}
    expired, waived = found["legacy1"], found["legacy2"]
    assert expired["message"].startswith("[waiver expired 2026-01-31: telnet kept")
    assert expired["waiver"]["expired"] is True and expired["waived"] is False
    assert waived["waiver"] == {
        "reason": "vendor appliance, replaced in Q1",
        "expires": "2999-12-31",
        "ticket": "SEC-22",
        "expired": False,
    }


# Markdown ----------------------------------------------------------------------------------

HOSTILE_NAMES = (
    "|x|[click](http://evil.example/)",
    "<img src=x onerror=alert(1)>&amp;",
    "gunicorn app.py www.evil.com ops@evil.com //evil.example/x $x$",
)
HOSTILE_ERROR = "connection refused, see http://evil.example/help for details"


def hostile_run() -> RunResult:
    socks = tuple(sock("0.0.0.0", 7000 + i, name) for i, name in enumerate(HOSTILE_NAMES))
    hosts = (
        snapshot("web1", *socks),
        failed("down1", HostStatus.UNREACHABLE, HOSTILE_ERROR),
    )
    findings: tuple[Finding, ...] = tuple(finding("web1", s) for s in socks)
    return run_result(hosts, findings)


def test_markdown_remote_text_is_shown_as_sent_and_never_becomes_a_link() -> None:
    text = OutputFormat.MARKDOWN.formatter().render(hostile_run())
    rendered = gfm().render(text)
    assert "<a " not in rendered and "<img" not in rendered, rendered
    shown = cells(rendered)
    processes = [row[4] for row in shown if row and row[0] == "high"]
    assert processes == [f"{name}[100]" for name in HOSTILE_NAMES]  # every character, as sent
    assert ["down1", "unreachable", HOSTILE_ERROR] in shown


def test_markdown_says_a_waiver_expired_and_why_findings_are_waived(tmp_path: Path) -> None:
    text = OutputFormat.MARKDOWN.formatter().render(waiver_run(tmp_path))
    shown = cells(gfm().render(text))
    active = next(row for row in shown if row[:2] == ["high", "legacy1"])
    assert active[-1].startswith("[waiver expired 2026-01-31: telnet kept for the old switch")
    header = next(row for row in shown if "Reason" in row)
    waived = dict(zip(header, next(row for row in shown if row[1] == "legacy2"), strict=True))
    assert (waived["Reason"], waived["Ticket"], waived["Expires"]) == (
        "vendor appliance, replaced in Q1", "SEC-22", "2999-12-31"
    )  # fmt: skip
    assert "Expired waivers:** 1 finding" in text


def test_markdown_says_the_run_was_stopped() -> None:
    text = OutputFormat.MARKDOWN.formatter().render(not_audited_run())
    summary = gfm().render(text).split("<h3>")[0]  # above the tables
    assert "Partial:</strong> the run was stopped by SIGTERM" in summary


EXAMPLES = int(os.environ.get("FLEETAUDIT_FUZZ_EXAMPLES", "300"))
LINKISH = st.sampled_from(
    ["http", "HTTPS", "ftp", "mailto", "www", "evil", "com", "py", "localhost", "a", "9", " ",
     ":", "//", "/", ".", "@", "&", "amp;", "#x41;", "<", ">", "[", "]", "(", ")", "|", "`",
     "*", "_", "~", "$", "\\", "!", "-", "+", "%", "?", "="]
)  # fmt: skip


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(LINKISH, max_size=14).map("".join))
def test_fuzz_markdown_cell_is_never_a_link_and_shows_the_text(text: str) -> None:
    rendered = gfm().render(f"| h |\n|---|\n| {md(text)} |")
    assert "<a " not in rendered and "<img" not in rendered, (text, rendered)
    assert cells(rendered)[1:] == [[text.strip()]]
