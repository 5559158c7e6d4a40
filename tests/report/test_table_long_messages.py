"""Long messages reach the reader of the table (cron mail) and Markdown reports whole.

The messages are the ones fleetaudit produces: built by the transport's own HostKeyBook
and exception translation, with a real ed25519 key, so a change of wording is tested too.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import asyncssh

from fleetaudit.model import Finding, HostSnapshot, HostStatus, RunResult, Severity
from fleetaudit.model.finding import AppliedWaiver
from fleetaudit.report import OutputFormat, TableFormatter
from fleetaudit.report.host_details import DETAIL_CELL, MAX_ENTRIES
from fleetaudit.report.markdown import md
from fleetaudit.transport.errors import translate
from fleetaudit.transport.hostkeys import HostKeyBook
from tests.factories import finding, run_result, snapshot, sock

KNOWN_HOSTS = Path("/home/ops/.ssh/known_hosts")
FIX = (
    "mysqld listens on 0.0.0.0:3306/tcp (any address, IPv6 and IPv4). Rule 'no-db-exposed': "
    "Databases must not listen beyond loopback: anyone on the network can try passwords. "
    "Fix: Bind to 127.0.0.1 (bind-address in /etc/mysql/mysql.conf.d/mysqld.cnf), restart."
)


def _flat(text: str) -> str:
    """``text`` with every run of whitespace made one space: wrapping does not count."""
    return " ".join(text.split())


def _changed(address: str) -> tuple[str, str]:
    """A HOST KEY CHANGED message as the transport writes it, and the offered fingerprint."""
    key = asyncssh.generate_private_key("ssh-ed25519")
    book = HostKeyBook([KNOWN_HOSTS], None, learn=False)
    message = book.refusal_message(HostStatus.HOST_KEY_CHANGED, f"root@{address}:22", key)
    return message, key.get_fingerprint("sha256")


def _failed(host: str, address: str, status: HostStatus, error: str) -> HostSnapshot:
    return snapshot(host, address=address, status=status, error=error, tool=None, privilege=None)


def _timeout(index: int) -> HostSnapshot:
    address = f"10.1.{index // 250}.{index % 250}"
    error = translate(TimeoutError(), where=f"root@{address}:22", phase="connect").message
    return _failed(f"app{index}", address, HostStatus.TIMEOUT, error)


def _details(text: str) -> str:
    """The HOST DETAILS block of a table report."""
    start = text.index("HOST DETAILS")
    return text[start : text.index("\n\n", start)]


def _table(run: RunResult, width: int = 100) -> str:
    return TableFormatter(width=width).render(run)


def test_host_key_changed_reaches_the_reader_with_its_fingerprint_and_advice() -> None:
    message, offered = _changed("10.0.0.7")
    auth = translate(
        asyncssh.PermissionDenied("denied"), where="audit@10.0.0.8:22", phase="connect"
    ).message
    run = run_result(
        (
            _failed("web7", "10.0.0.7", HostStatus.HOST_KEY_CHANGED, message),
            _failed("web8", "10.0.0.8", HostStatus.AUTH_FAILED, auth),
            snapshot("db1", sock()),
        )
    )
    text = _table(run)
    details = _details(text)
    assert _flat(message) in _flat(details) and _flat(auth) in _flat(details)
    assert offered in details  # a fingerprint is never split by the wrapping
    assert "Verify it, then fix the entry." in _flat(details)
    assert "[1] web7 (host_key_changed)" in details and "[2] web8 (auth_failed)" in details
    assert all(len(line) <= 100 for line in details.splitlines())
    row = next(line for line in text.splitlines() if line.startswith("web7 "))
    cell = row[row.index("root@10.0.0.7") :]
    assert len(cell) <= DETAIL_CELL and cell.endswith("... [1]")


def test_many_hosts_failing_alike_share_one_bounded_entry() -> None:
    run = run_result(tuple(_timeout(i) for i in range(800)))
    details = _details(_table(run))
    assert details.splitlines() == [
        "HOST DETAILS (hosts not audited, and notes cut above: full text)",
        "[1] 800 hosts (timeout): app0, app1, app2, app3, app4 and 795 more",
        "    connect to root@10.1.0.0:22 timed out",
        "    (as app0 said it; the others name their own address)",
    ]


def test_the_details_block_is_bounded_and_says_where_the_rest_is() -> None:
    hosts = tuple(
        _failed(f"h{i}", f"10.2.0.{i}", HostStatus.HOST_KEY_CHANGED, _changed(f"10.2.0.{i}")[0])
        for i in range(MAX_ENTRIES + 10)
    )
    text = _table(run_result(hosts))
    details = _details(text)
    assert len(re.findall(r"^\[\d+\] ", details, re.MULTILINE)) == MAX_ENTRIES
    assert "... and 10 more message(s) from 10 host(s), not shown here" in details
    last = next(line for line in text.splitlines() if line.startswith(f"h{MAX_ENTRIES + 9} "))
    assert last.endswith("... [in JSON]")


def test_hostile_text_stays_escaped_in_the_details() -> None:
    error = "root@10.0.0.9:22: connect failed: " + "\x1b]0;pwned\x07 " * 20
    text = _table(run_result((_failed("evil", "10.0.0.9", HostStatus.SSH_ERROR, error),)))
    assert "\x1b" not in text and "\x07" not in text
    assert _details(text).count("\\x1b]0;pwned\\x07") == 20


def test_a_long_note_of_an_audited_host_is_cut_in_the_cell_and_whole_below() -> None:
    note = "sudo -n refused (a password is required): " + "listing owners needs root; " * 5
    text = _table(run_result((snapshot("web1", sock(), privilege_note=note),)))
    assert _flat(note) in _flat(_details(text))
    assert "[1] web1 (ok)" in text


def test_findings_and_waiver_reasons_are_wrapped_not_cut() -> None:
    mysql = sock("0.0.0.0", 3306, "mysqld")
    long_finding = finding("db1", mysql).model_copy(update={"message": FIX})
    reason = "accepted until the migration to the new cluster ends; " * 4
    waived = finding("db1", sock("0.0.0.0", 5432, "postgres"), Severity.LOW).model_copy(
        update={"waiver": AppliedWaiver(reason=reason, expires=date(2999, 1, 1), expired=False)}
    )
    text = _table(run_result((snapshot("db1", mysql),), (long_finding, waived)), width=140)
    findings = text[text.index("FINDINGS") : text.index("WAIVED")]
    assert _flat(FIX) in _flat(findings.replace(" " * 20, " "))
    assert "Fix:" in findings and "'no-db-exposed'" in findings  # words are never split
    assert all(len(line) <= 140 for line in findings.splitlines())
    waived_text = text[text.index("WAIVED") : text.index("TOTALS")]
    assert "cluster ends; " * 3 not in waived_text  # wrapped onto several lines...
    assert waived_text.count("migration") == 4  # ...and whole


def test_a_wider_terminal_gets_fewer_lines() -> None:
    message, _ = _changed("10.0.0.7")
    run = run_result((_failed("web7", "10.0.0.7", HostStatus.HOST_KEY_CHANGED, message),))
    narrow, wide = _details(_table(run, 80)), _details(_table(run, 200))
    assert len(wide.splitlines()) < len(narrow.splitlines())
    assert all(len(line) <= 80 for line in narrow.splitlines())


def test_markdown_keeps_long_messages_whole() -> None:
    message, offered = _changed("10.0.0.7")
    mysql = sock("0.0.0.0", 3306, "mysqld")
    findings: tuple[Finding, ...] = (finding("db1", mysql).model_copy(update={"message": FIX}),)
    hosts = (
        snapshot("db1", mysql),
        _failed("web7", "10.0.0.7", HostStatus.HOST_KEY_CHANGED, message),
    )
    text = OutputFormat.MARKDOWN.formatter().render(run_result(hosts, findings))
    assert md(message) in text and offered in text and md(FIX) in text


def test_each_rule_explains_itself_once_below_its_findings() -> None:
    """Thirty hosts breaking one rule: each finding row says what is wrong on that host;
    the rule's reason and fix, which are the same for all, are printed once, whole."""
    from fleetaudit.policy import evaluate, load_policy

    policy = load_policy(Path(__file__).parents[2] / "policies" / "default.yaml")
    hosts = tuple(snapshot(f"db{i}", sock("0.0.0.0", 23, "inetd")) for i in range(30))
    findings = tuple(f for host in hosts for f in evaluate(host, policy, date(2026, 1, 1)))
    telnet = [f for f in findings if f.rule_id == "no-telnet"]
    assert len(telnet) == 30
    text = _table(run_result(hosts, findings))
    rows = text[text.index("FINDINGS") : text.index("RULES")]
    rules = text[text.index("RULES") : text.index("TOTALS")]
    assert _flat(rows).count("inetd listens on 0.0.0.0:23/tcp (any address).") == 30
    assert "Fix:" not in rows and "Rule 'no-telnet'" not in rows
    assert _flat(rules).count(_flat(telnet[0].explanation)) == 1
    assert all(len(line) <= 100 for line in rules.splitlines())


def test_an_absurdly_long_name_cannot_widen_the_table_without_bound() -> None:
    """A hostile host names its process with 10,000 characters: the process cell is cut,
    and the message naming it is split across lines, so no line grows with the name."""
    name = "B" * 10_000
    socket = sock("0.0.0.0", 3306, name)
    long_finding = finding("db1", socket).model_copy(
        update={"message": f"{name} listens on 0.0.0.0:3306/tcp (any address)."}
    )
    text = _table(run_result((snapshot("db1", socket),), (long_finding,)))
    assert max(len(line) for line in text.splitlines()) < 600
