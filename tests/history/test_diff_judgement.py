"""The diff of two runs whose findings are the same problems judged differently: another
severity, a waiver, another policy, another privilege. None of these is a listener that
went away, and none may read as "resolved" or "no change"."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from datetime import date
from importlib import resources
from pathlib import Path

from fleetaudit.history import diff_runs
from fleetaudit.history.render import render_diff
from fleetaudit.model.enums import HostStatus, Privilege, Severity, SocketState
from fleetaudit.model.finding import AppliedWaiver, Finding
from fleetaudit.model.host import LineError
from fleetaudit.model.run import RuleInfo
from fleetaudit.report import DiffFormat
from tests.factories import T0, finding, run_result, snapshot, sock
from tests.runcli import fleetaudit

DEMO = Path(str(resources.files("fleetaudit").joinpath("data", "demo")))
MYSQL_ANY = sock("0.0.0.0", 3306, "mysqld", pid=99)


def _run(run_id: str, *findings: Finding, digest: str = "d" * 64, **host: object) -> object:
    return run_result(
        (snapshot("db1", MYSQL_ANY, **host),),
        findings,
        run_id=run_id,
        started_at=T0,
        finished_at=T0,
        policy_digest=digest,
    )


def _waived(original: Finding, expires: date = date(2999, 1, 1)) -> Finding:
    waiver = AppliedWaiver(reason="migration", expires=expires, expired=False)
    return original.model_copy(update={"waiver": waiver})


def test_a_finding_judged_more_severe_is_a_change_not_nothing() -> None:
    before = _run("a", finding("db1", MYSQL_ANY, Severity.MEDIUM))
    after = _run("b", finding("db1", MYSQL_ANY, Severity.HIGH))
    changes = diff_runs(before, after)  # type: ignore[arg-type]
    assert not changes.empty
    assert (changes.new_findings, changes.resolved_findings) == ((), ())
    [change] = changes.changed_findings
    assert (change.before.severity, change.after.severity) == (Severity.MEDIUM, Severity.HIGH)
    text = render_diff(changes, DiffFormat.TABLE)
    assert "CHANGED, STILL THERE (1)" in text and "medium -> high" in text
    assert "| medium -> high | db1 |" in render_diff(changes, DiffFormat.MARKDOWN)


def test_a_finding_now_waived_is_not_resolved() -> None:
    active = finding("db1", MYSQL_ANY)
    changes = diff_runs(_run("a", active), _run("b", _waived(active)))  # type: ignore[arg-type]
    assert changes.resolved_findings == ()
    [change] = changes.changed_findings
    assert change.after.waived
    assert "now waived until 2999-01-01" in render_diff(changes, DiffFormat.TABLE)
    # a waived finding whose listener then goes away is not news, nor is it resolved
    gone = run_result((snapshot("db1"),), (), run_id="c", policy_digest="d" * 64)
    assert diff_runs(_run("b", _waived(active)), gone).resolved_findings == ()  # type: ignore[arg-type]
    # and one whose listener goes away while it counts is resolved, as before
    assert len(diff_runs(_run("a", active), gone).resolved_findings) == 1  # type: ignore[arg-type]


def test_runs_judged_by_different_policies_say_so() -> None:
    same = diff_runs(_run("a"), _run("b"))  # type: ignore[arg-type]
    assert "different policies" not in render_diff(same, DiffFormat.TABLE)
    other = diff_runs(_run("a"), _run("b", digest="e" * 64))  # type: ignore[arg-type]
    assert other.policies_differ
    for fmt in (DiffFormat.TABLE, DiffFormat.MARKDOWN):
        assert (
            "judged by different policies: test (sha256 dddddddddddd) -> test (sha256 "
            "eeeeeeeeeeee)" in render_diff(other, fmt).replace("\\", "")
        )
    # runs of releases that did not record the digest are not said to differ
    unknown = run_result((snapshot("db1", MYSQL_ANY),), (), run_id="c")
    assert not diff_runs(unknown, _run("b")).policies_differ  # type: ignore[arg-type]


def test_a_host_audited_without_root_the_second_time_says_so() -> None:
    hidden = sock("0.0.0.0", 3306, "", pid=None)
    before = _run("a")
    after = run_result((snapshot("db1", hidden, privilege=Privilege.UNPRIVILEGED),), (), run_id="b")
    [host] = diff_runs(before, after).hosts  # type: ignore[arg-type]
    assert (host.status_before, host.status_after) == (HostStatus.OK, HostStatus.OK)
    assert (host.privilege_before, host.privilege_after) == (
        Privilege.ROOT,
        Privilege.UNPRIVILEGED,
    )
    text = render_diff(diff_runs(before, after), DiffFormat.TABLE)  # type: ignore[arg-type]
    assert "audited as root -> unprivileged" in text


def test_listeners_whose_owner_one_run_could_not_name_are_counted_not_listed() -> None:
    """QA: after a night without root, every listener of the host read as removed (named)
    and added (owner unknown): one night of broken sudo across a fleet made a mail of tens
    of thousands of lines that hid the listener that really came. Such pairs are counted;
    a listener that really came or went is still listed, with its owner."""
    sshd, mysqld = sock("0.0.0.0", 22, "sshd"), sock("0.0.0.0", 3306, "mysqld", pid=99)
    nc = sock("0.0.0.0", 4444, "nc", pid=7)
    unseen = [sock(s.local_address, s.local_port, None, owner_known=False) for s in (sshd, nc)]
    root = run_result((snapshot("db1", sshd, mysqld),), (), run_id="a")
    blind = run_result(
        (snapshot("db1", *unseen, privilege=Privilege.UNPRIVILEGED),), (), run_id="b"
    )
    for before, after in ((root, blind), (blind, root)):
        [host] = diff_runs(before, after).hosts  # type: ignore[arg-type]
        assert [(k.endpoint, k.processes) for k in host.owner_named_once] == [
            ("0.0.0.0:22", "sshd")
        ]
    [host] = diff_runs(root, blind).hosts  # type: ignore[arg-type]
    assert [(k.endpoint, k.processes) for k in host.new_listeners] == [
        ("0.0.0.0:4444", "(owner unknown)")
    ]
    assert [(k.endpoint, k.processes) for k in host.removed_listeners] == [
        ("0.0.0.0:3306", "mysqld")
    ]
    text = render_diff(diff_runs(root, blind), DiffFormat.TABLE)  # type: ignore[arg-type]
    assert "1 listener(s) whose owner only one run could name" in text
    assert "0.0.0.0:22" not in text


def test_a_listener_whose_owner_is_named_on_one_side_only_is_neither_resolved_nor_new() -> None:
    """QA: after `become: true` and the report's own sudoers line, the same listener's high
    finding read as "resolved" (owner unknown) and "new" (mysqld) in the morning mail: the
    fingerprint holds the program names. It is one finding; only a change of judgement is
    listed. A different program on the port is a real change and still reads as one."""
    hidden = sock("0.0.0.0", 3306, None, owner_known=False)
    unprivileged = run_result(
        (snapshot("db1", hidden, privilege=Privilege.UNPRIVILEGED),),
        (finding("db1", hidden),),
        run_id="a",
        policy_digest="d" * 64,
    )
    named = finding("db1", MYSQL_ANY)
    for before, after in ((unprivileged, _run("b", named)), (_run("b", named), unprivileged)):
        changes = diff_runs(before, after)  # type: ignore[arg-type]
        assert (changes.new_findings, changes.resolved_findings) == ((), ()), changes
        assert changes.changed_findings == ()
    raised = _run("b", named.model_copy(update={"severity": Severity.CRITICAL}))
    [change] = diff_runs(unprivileged, raised).changed_findings  # type: ignore[arg-type]
    assert (change.before.severity, change.after.severity) == (Severity.HIGH, Severity.CRITICAL)
    other = sock("0.0.0.0", 3306, "nc", pid=7)
    replaced = run_result(
        (snapshot("db1", other),), (finding("db1", other),), run_id="c", policy_digest="d" * 64
    )
    changes = diff_runs(_run("b", named), replaced)  # type: ignore[arg-type]
    assert (len(changes.new_findings), len(changes.resolved_findings)) == (1, 1)


def test_the_pre_change_gate_sees_a_capture_judged_by_a_stricter_policy(tmp_path: Path) -> None:
    """docs/pre-change-review.md: diff exits 1 when something changed. The same capture
    judged by a policy that raises a rule's severity changed what the gate fails on."""
    capture = shutil.copy(DEMO / "db1.ss.txt", tmp_path / "db1.ss.txt")
    stricter = tmp_path / "strict.yaml"
    stricter.write_text(
        "version: 1\nrules:\n"
        "  - {id: mysql-loopback, kind: bind-scope, severity: critical, description: d,\n"
        "     match: {process: mysqld}, allow: [loopback]}\n"
    )
    usual = stricter.with_name("usual.yaml")
    usual.write_text(stricter.read_text().replace("critical", "high"))
    for name, policy in (("a.json", usual), ("b.json", stricter)):
        done = fleetaudit("check", capture, "--privileged", "--policy", policy,
                          "-o", f"json={tmp_path / name}")  # fmt: skip
        assert done.returncode == 1, done.stderr
    done = fleetaudit("diff", tmp_path / "a.json", tmp_path / "b.json", "--format", "json")
    assert done.returncode == 1, done.stdout
    changes = json.loads(done.stdout)
    assert changes["before_policy"] != changes["after_policy"]
    [change] = changes["changed_findings"]
    assert (change["before"]["severity"], change["after"]["severity"]) == ("high", "critical")


def test_a_host_back_from_an_outage_with_nothing_to_compare_with_says_so() -> None:
    """A diff of two files has no history to find the host's last audit in: its findings
    read as new, and the diff must say why rather than let them pass as regressions."""
    down = snapshot("db1", status=HostStatus.TIMEOUT, error="t", tool=None, privilege=None)
    before = run_result((down,), (), run_id="a")
    after = _run("b", finding("db1", MYSQL_ANY))
    changes = diff_runs(before, after)  # type: ignore[arg-type]
    [host] = changes.hosts
    assert host.compared_with_nothing
    assert "its findings all read as new" in render_diff(changes, DiffFormat.TABLE)
    # a host audited on both sides was compared: nothing to say
    assert not diff_runs(_run("a"), after).hosts  # type: ignore[arg-type]


def test_a_finding_whose_waiver_expired_is_a_change_not_a_new_finding() -> None:
    active = finding("db1", MYSQL_ANY)
    lapsed = active.model_copy(
        update={
            "waiver": AppliedWaiver(reason="migration", expires=date(2026, 1, 31), expired=True)
        }
    )
    changes = diff_runs(_run("a", _waived(active)), _run("b", lapsed))  # type: ignore[arg-type]
    assert changes.new_findings == ()
    [change] = changes.changed_findings
    assert change.before.waived and not change.after.waived
    text = render_diff(changes, DiffFormat.TABLE)
    assert "no longer waived (waiver expired 2026-01-31)" in text


def test_a_renamed_but_unchanged_policy_judges_the_same() -> None:
    before = _run("a")
    renamed = _run("b").model_copy(update={"policy_name": "prod-v2"})  # type: ignore[attr-defined]
    assert not diff_runs(before, renamed).policies_differ  # type: ignore[arg-type]
    # a run that recorded no digest (an older release) is compared by name
    old = run_result((snapshot("db1", MYSQL_ANY),), (), run_id="c", policy_name="legacy")
    changes = diff_runs(old, _run("b"))  # type: ignore[arg-type]
    assert changes.policies_differ
    assert "judged by policies named legacy and test" in render_diff(changes, DiffFormat.TABLE)


def test_a_finding_whose_rule_left_the_policy_is_no_longer_judged_not_resolved() -> None:
    """mysqld still listens on 0.0.0.0:3306; the rule that flagged it was removed."""
    rule = RuleInfo(id="test-rule", kind="bind-scope", severity=Severity.HIGH, description="d")
    other = RuleInfo(id="other", kind="forbidden", severity=Severity.LOW, description="d")
    flagged = finding("db1", MYSQL_ANY)
    before = run_result((snapshot("db1", MYSQL_ANY),), (flagged,), run_id="a", rules=(rule, other))
    after = run_result((snapshot("db1", MYSQL_ANY),), (), run_id="b", rules=(other,))
    changes = diff_runs(before, after)
    assert changes.resolved_findings == ()
    assert changes.unjudged_findings == (flagged,)
    assert not changes.empty
    text = render_diff(changes, DiffFormat.TABLE)
    assert "RESOLVED" not in text
    assert (
        "NO LONGER JUDGED: their rule is not in the newer policy; the listener may still be "
        "there (1)" in text
    )
    assert "- **No longer judged:** 1" in render_diff(changes, DiffFormat.MARKDOWN)
    # a listener that went away while its rule stayed is resolved, as before
    gone = run_result((snapshot("db1"),), (), run_id="c", rules=(rule, other))
    assert diff_runs(before, gone).resolved_findings == (flagged,)


def test_hosts_the_newer_run_did_not_select_are_said_to_be_absent_not_gone() -> None:
    """QA: a bare `diff` after a daytime `--limit h14` run listed 26 hosts as `ok ->
    (absent)` with no word on why; the header says it, and no finding is resolved."""
    web = sock("0.0.0.0", 23, "telnetd")
    before = run_result(
        (snapshot("db1", MYSQL_ANY), snapshot("web1", web)), (finding("web1", web),), run_id="a"
    )
    after = run_result((snapshot("db1", MYSQL_ANY),), (), run_id="b")
    changes = diff_runs(before, after)
    assert changes.resolved_findings == ()
    for fmt in (DiffFormat.TABLE, DiffFormat.MARKDOWN):
        text = render_diff(changes, fmt).replace("\\", "")
        assert "1 host(s) of the older run are not in the newer one" in text, fmt
        assert "(--limit, --shard)" in text
    assert "not in the newer one" not in render_diff(diff_runs(before, before), DiffFormat.TABLE)


def test_a_finding_the_newer_run_could_not_judge_for_want_of_an_owner_is_not_resolved() -> None:
    """QA: a rule that matches by process (`no-inetd`) cannot fire on a run without root,
    where the listener is still there but no process is named: the diff called the high
    finding resolved. It is listed apart, as not seen, neither resolved nor new."""
    inetd = sock("0.0.0.0", 23, "inetd", pid=5)
    hidden = sock("0.0.0.0", 23, None, owner_known=False)
    before = run_result(
        (snapshot("db1", inetd),), (finding("db1", inetd),), run_id="a", policy_digest="d" * 64
    )
    after = run_result(
        (snapshot("db1", hidden, privilege=Privilege.UNPRIVILEGED),),
        (),
        run_id="b",
        policy_digest="d" * 64,
    )
    changes = diff_runs(before, after)
    assert changes.resolved_findings == ()
    assert [f.rule_id for f in changes.unconfirmed_findings] == ["test-rule"]
    for fmt in (DiffFormat.TABLE, DiffFormat.MARKDOWN):
        assert "could not name its process" in render_diff(changes, fmt), fmt
    gone = run_result((snapshot("db1"),), (), run_id="c", policy_digest="d" * 64)
    closed = diff_runs(before, gone)  # the listener itself went: resolved, as before
    assert len(closed.resolved_findings) == 1 and closed.unconfirmed_findings == ()


UNREAD = LineError(line=7, text="tcp LISTEN 0 80 0.0.0.0:", reason="no port after ':'")
SSH_IN = replace(
    sock("10.0.0.5", 22, "sshd", state=SocketState.ESTABLISHED),
    peer_address="10.0.0.9",
    peer_port=50000,
)  # this audit's own connection
SSHD = sock("0.0.0.0", 22, "sshd")


def test_a_finding_an_incomplete_listing_does_not_show_is_not_resolved() -> None:
    """QA: a listing with an unreadable line, or cut short (without this audit's own
    connection), mailed the findings on what it lacked as resolved, and their listeners as
    removed: whoever can cut a host's listing could make an exposure read as closed."""
    whole = _run("a", finding("db1", MYSQL_ANY))
    for incomplete in (
        {"parse_errors": (UNREAD,)},
        {"audit_connection": (22, 50001)},  # the listing holds another connection only
    ):
        after = run_result(
            (snapshot("db1", SSHD, SSH_IN, **incomplete),),
            run_id="b",
            started_at=T0,
            finished_at=T0,
        )
        changes = diff_runs(whole, after)  # type: ignore[arg-type]
        assert changes.resolved_findings == ()
        assert [f.rule_id for f in changes.unlisted_findings] == ["test-rule"]
        [host] = changes.hosts
        assert host.removed_listeners == () and len(host.unlisted_listeners) == 1
        text = render_diff(changes, DiffFormat.TABLE)
        assert "NOT IN THE LISTING: the newer listing of the host is incomplete" in text
        assert "its listing is incomplete: 1 listener(s) of the older run it does not show" in text
        assert "Not in the incomplete listing (not resolved):** 1" in render_diff(
            changes, DiffFormat.MARKDOWN
        )
        # the night after, the whole listing again: the listener comes back, said to be
        back = diff_runs(after, whole)  # type: ignore[arg-type]
        [host] = back.hosts
        assert host.incomplete_before
        assert "the older run's listing of it was incomplete" in render_diff(back, DiffFormat.TABLE)


def test_a_whole_listing_still_resolves_what_went() -> None:
    whole = _run("a", finding("db1", MYSQL_ANY))
    after = run_result(
        (snapshot("db1", SSHD, SSH_IN, audit_connection=(22, 50000)),),
        run_id="b", started_at=T0, finished_at=T0,
    )  # fmt: skip
    changes = diff_runs(whole, after)  # type: ignore[arg-type]
    assert [f.rule_id for f in changes.resolved_findings] == ["test-rule"]
    assert changes.unlisted_findings == ()


def test_a_wildcard_that_began_taking_ipv4_is_a_change() -> None:
    """QA: [::]:5432 going from v6only:1 to v6only:0 (a new IPv4 exposure) was no change;
    the same socket read without IPV6_V6ONLY (netstat) is none."""

    def night(run_id: str, v6only: bool | None) -> object:
        postgres = replace(sock("::", 5432, "postgres"), accepts_ipv4=None if v6only is None
                           else not v6only)  # fmt: skip
        return run_result((snapshot("db1", SSHD, postgres),), run_id=run_id, started_at=T0,
                          finished_at=T0)  # fmt: skip

    changes = diff_runs(night("a", True), night("b", False))  # type: ignore[arg-type]
    [host] = changes.hosts
    assert (host.new_listeners, host.removed_listeners) == ((), ())
    text = render_diff(changes, DiffFormat.TABLE)
    assert "~ tcp [::]:5432 postgres: IPv6 only -> IPv6 and IPv4" in text
    assert diff_runs(night("a", True), night("b", None)).empty  # type: ignore[arg-type]


def test_more_unreadable_lines_is_a_change() -> None:
    """QA: a host with one unreadable line each night got a second (a new listener no parser
    read): the coverage finding is one per host and kind, so the diff said "no change"."""
    second = LineError(line=9, text="tcp LISTEN 0 5 0.0.0.0:", reason="no port after ':'")

    def night(run_id: str, *errors: LineError) -> object:
        return run_result((snapshot("db1", SSHD, MYSQL_ANY, parse_errors=errors),),
                          run_id=run_id, started_at=T0, finished_at=T0)  # fmt: skip

    changes = diff_runs(night("a", UNREAD), night("b", UNREAD, second))  # type: ignore[arg-type]
    [host] = changes.hosts
    assert host.unread_lines == (1, 2)
    text = render_diff(changes, DiffFormat.TABLE)
    assert "unreadable lines 1 -> 2: the sockets on them were not judged" in text
    assert diff_runs(night("a", UNREAD), night("b", second)).empty  # type: ignore[arg-type]


def test_a_finding_about_the_whole_host_is_decided_by_an_incomplete_listing() -> None:
    """A listing cut one night and without a listener the next: the "cut" finding went,
    and it is not "not in the listing" (a finding about the listing itself, QA)."""
    cut = Finding(rule_id="coverage", severity=Severity.HIGH, host="db1",
                  message="db1: its listing lacks this audit's own SSH connection",
                  fingerprint="c" * 32, aspect="cut")  # fmt: skip
    before = run_result((snapshot("db1", SSHD, audit_connection=(22, 50001)),), (cut,),
                        run_id="a", started_at=T0, finished_at=T0)  # fmt: skip
    after = run_result((snapshot("db1", SSH_IN),), run_id="b", started_at=T0, finished_at=T0)
    changes = diff_runs(before, after)  # type: ignore[arg-type]
    assert [f.fingerprint for f in changes.resolved_findings] == [cut.fingerprint]
    assert changes.unlisted_findings == ()
