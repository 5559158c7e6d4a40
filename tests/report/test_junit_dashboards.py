"""JUnit XML as CI dashboards read it: one outcome per testcase, counts that add up, names
that stay the same from run to run, waivers and hosts not audited marked as such."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import Counter
from importlib import resources
from pathlib import Path

from fleetaudit.model.enums import HostStatus, Proto, Severity
from fleetaudit.model.finding import Finding
from fleetaudit.model.host import HostSnapshot
from fleetaudit.model.run import RunResult
from fleetaudit.report import OutputFormat
from tests.factories import finding, run_result, snapshot, sock
from tests.report.fleet_runs import judged_run
from tests.report.test_sarif_schema import EVIL, WAIVERS, pipeline_run
from tests.runcli import fleetaudit

DEMO = Path(str(resources.files("fleetaudit").joinpath("data", "demo")))

OUTCOMES = {"failure": "failures", "error": "errors", "skipped": "skipped"}


def parse(run: RunResult) -> ET.Element:
    text = OutputFormat.JUNIT.formatter().render(run)
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n')
    return ET.fromstring(text.split("\n", 1)[1])  # noqa: S314 (our own output)


def suites(root: ET.Element) -> dict[str, ET.Element]:
    return {str(s.get("name")): s for s in root.iter("testsuite")}


def outcome(case: ET.Element) -> str:
    """What a dashboard shows for a testcase: passed, or its one outcome element."""
    marks = [child.tag for child in case if child.tag in OUTCOMES]
    assert len(marks) <= 1, (case.get("name"), marks)  # reporters show only the first
    return marks[0] if marks else "passed"


def hostile() -> HostSnapshot:
    """A web host with fourteen listeners its allowlist does not cover (one rule, one host:
    the case that used to pile fourteen failures into one testcase)."""
    extra = [sock("0.0.0.0", 9000 + i, f"{EVIL}{i}", pid=4000 + i) for i in range(14)]
    return snapshot("hostile", sock("0.0.0.0", 22, "sshd"), *extra, groups=("web",))


def test_counts_add_up_in_every_suite_and_in_the_total() -> None:
    root = parse(judged_run(hostile(), *pipeline_run().snapshots, policy_extra=WAIVERS))
    totals: Counter[str] = Counter()
    for suite in root.iter("testsuite"):
        cases = suite.findall("testcase")
        seen = Counter(OUTCOMES[outcome(c)] for c in cases if outcome(c) != "passed")
        assert suite.get("tests") == str(len(cases)), suite.get("name")
        for attribute in OUTCOMES.values():
            assert suite.get(attribute) == str(seen[attribute]), (suite.get("name"), attribute)
        assert int(str(suite.get("failures"))) <= len(cases)
        totals.update({"tests": len(cases), **seen})
    for attribute in ("tests", "failures", "errors"):
        assert root.get(attribute) == str(totals[attribute]), attribute
    assert totals["failures"] > 0 and totals["errors"] == 2 and totals["skipped"] == 1
    # Jenkins' JUnit schema (xunit's junit-10.xsd) allows no other attribute on the root
    assert set(root.attrib) <= {"name", "time", "tests", "failures", "disabled", "errors"}


def test_a_line_break_in_a_process_name_forges_no_line_of_the_failure() -> None:
    """`in.telnetd\nseverity: info` must not read as a line of its own in the body CI shows."""
    forged = sock("0.0.0.0", 23, "in.telnetd\nseverity: info\nhost: other", pid=77)
    root = parse(judged_run(snapshot("nl", sock("0.0.0.0", 22, "sshd"), forged, groups=("web",))))
    bodies = [f.text or "" for f in root.iter("failure")]
    assert bodies and all("\nseverity: info" not in body for body in bodies)
    assert any("in.telnetd\\x0aseverity: info" in body for body in bodies), bodies


def test_each_finding_is_its_own_testcase() -> None:
    run = judged_run(hostile())
    suite = suites(parse(run))["hostile"]
    failing = [c for c in suite.findall("testcase") if outcome(c) == "failure"]
    assert len(failing) == len([f for f in run.findings if not f.waived]) == 14
    assert suite.get("failures") == "14" and int(str(suite.get("tests"))) > 14
    names = [c.get("name") for c in failing]
    assert names == [f"web-allowlist tcp/0.0.0.0:{9000 + i}" for i in range(14)]
    assert all(c.get("classname") == "hostile" for c in failing)


def test_testcase_names_are_stable_across_runs_and_unique_per_host() -> None:
    """Other PIDs and another listing order: the same names, so history follows them."""

    def named(pid: int, reverse: bool) -> dict[str, str]:
        sockets = [sock("0.0.0.0", p, "telnetd", pid=pid + p) for p in (23, 24, 25)]
        host = snapshot("web1", *(reversed(sockets) if reverse else sockets), groups=("web",))
        cases = suites(parse(judged_run(host)))["web1"].findall("testcase")
        names = [str(c.get("name")) for c in cases]
        assert len(names) == len(set(names))
        return {name: outcome(c) for name, c in zip(names, cases, strict=True)}

    first = named(100, False)
    assert first == named(7000, True)
    assert first["no-telnet tcp/0.0.0.0:23"] == "failure"
    assert not any(str(pid) in name for name in first for pid in (123, 7023))


def test_two_findings_on_one_endpoint_get_distinct_stable_names() -> None:
    """SO_REUSEPORT: two sockets on one port owned by different programs are two findings;
    their names differ by the start of their (stable) fingerprints."""
    one, two = sock("0.0.0.0", 23, "telnetd"), sock("0.0.0.0", 23, "busybox", pid=7)
    run = run_result((snapshot("web1", one, two),), (finding("web1", one), finding("web1", two)))
    cases = suites(parse(run))["web1"].findall("testcase")
    names = [str(c.get("name")) for c in cases if outcome(c) == "failure"]
    assert len(names) == 2 and len(set(names)) == 2
    assert all(name.startswith("test-rule tcp/0.0.0.0:23 #") for name in names)
    again = suites(parse(run))["web1"].findall("testcase")
    assert names == [str(c.get("name")) for c in again if outcome(c) == "failure"]


def test_a_host_finding_keeps_its_name_when_the_host_gets_a_second() -> None:
    """QA: one coverage gap was `audit-coverage host`; the night a second appeared, both were
    renamed `... #fingerprint`, and the dashboard lost the first one's history."""

    def gap(kind: str) -> Finding:
        return Finding(rule_id="audit-coverage", severity=Severity.MEDIUM, host="app1",
                       message=f"app1: {kind}", fingerprint=f"{kind:0<32}"[:32])  # fmt: skip

    def names(*findings: Finding) -> list[str]:
        suite = suites(parse(run_result((snapshot("app1", sock()),), findings)))["app1"]
        return [str(c.get("name")) for c in suite.findall("testcase") if outcome(c) == "failure"]

    [alone] = names(gap("unprivileged"))
    assert alone.startswith("audit-coverage host #")
    assert alone in names(gap("unprivileged"), gap("unread"))


def test_findings_of_a_rule_the_run_does_not_list_still_fail() -> None:
    bad = sock("0.0.0.0", 23, "telnetd")
    suite = suites(parse(run_result((snapshot("web1", bad),), (finding("web1", bad),))))["web1"]
    assert [(c.get("name"), outcome(c)) for c in suite.findall("testcase")] == [
        ("audit", "passed"),
        ("test-rule tcp/0.0.0.0:23", "failure"),
    ]


def test_waived_findings_are_skipped_with_the_waiver_and_expired_ones_fail_saying_so() -> None:
    host = snapshot(
        "web1",
        sock("0.0.0.0", 3306, "mysqld"),
        sock("0.0.0.0", 69, "in.tftpd", proto=Proto.UDP),
        groups=("web",),
    )
    cases = {c.get("name"): c for c in suites(parse(judged_run(host, policy_extra=WAIVERS)))[
        "web1"].findall("testcase")}  # fmt: skip
    waived = cases["no-tftp udp/0.0.0.0:69"]
    assert outcome(waived) == "skipped"
    skipped = waived.find("skipped")
    assert skipped is not None
    assert skipped.get("message") == (
        "waived until 2999-01-01: PXE boot server <b>until</b> the rebuild \\x1b[31m (SEC-1)"
    )
    expired = cases["mysql-loopback tcp/0.0.0.0:3306"]
    assert outcome(expired) == "failure"
    failure = expired.find("failure")
    assert failure is not None
    assert str(failure.get("message")).startswith("[waiver expired 2020-01-01: expired long ago] ")
    assert failure.get("type") == "high"


def test_rules_without_findings_pass_and_a_host_not_audited_is_one_error() -> None:
    root = parse(pipeline_run())
    web = {c.get("name"): outcome(c) for c in suites(root)["web1"].findall("testcase")}
    assert web["audit"] == "passed"
    assert web["postgres-loopback"] == "passed"  # dashboards track it host by host
    assert "no-telnet" not in web and web["no-telnet tcp/0.0.0.0:23"] == "failure"
    down = suites(root)["down1"]
    [case] = down.findall("testcase")
    assert (case.get("name"), outcome(case)) == ("audit", "error")
    error = case.find("error")
    assert error is not None
    assert error.get("type") == HostStatus.UNREACHABLE.value
    assert error.get("message") == "refused <b>"
    assert (down.get("tests"), down.get("errors"), down.get("failures")) == ("1", "1", "0")


def test_remote_text_never_reaches_the_xml_as_control_characters() -> None:
    text = OutputFormat.JUNIT.formatter().render(judged_run(hostile()))
    assert "\x1b" not in text and "\u202e" not in text
    failure = parse(judged_run(hostile())).find(".//failure")
    assert failure is not None and failure.text is not None
    assert "\n" in failure.text  # the body keeps its lines
    assert "<script>" in str(failure.get("message"))  # as data, escaped by the XML writer


def test_a_rule_whose_select_left_the_host_out_has_no_testcase_there(tmp_path: Path) -> None:
    """QA: a rule for group db showed as passed on a web host it never looked at."""
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        "version: 1\nrules:\n"
        "  - {id: db-only, kind: forbidden, severity: high, description: d,\n"
        "     select: {groups: [db]}, match: {port: 65535}}\n"
        "  - {id: everyone, kind: forbidden, severity: high, description: d, match: {port: 1}}\n"
    )
    capture = DEMO / "web1.ss.txt"

    def cases(*extra: str) -> list[str]:
        done = fleetaudit("check", "-p", policy, "--privileged", "-f", "junit", *extra, capture)
        assert done.returncode == 0, done.stderr
        root = ET.fromstring(done.stdout.split("\n", 1)[1])  # noqa: S314 (our own output)
        return [str(case.get("name")) for case in root.iter("testcase")]

    assert cases() == ["audit", "everyone"]
    assert cases("--group", "db") == ["audit", "db-only", "everyone"]
    # read back from the JSON report, as merge does with shard reports (QA: every rule)
    report = tmp_path / "report.json"
    fleetaudit("check", "-p", policy, "--privileged", "-o", f"json={report}", capture)
    merged = fleetaudit("merge", report, "-f", "junit")
    assert merged.returncode == 0, merged.stderr
    root = ET.fromstring(merged.stdout.split("\n", 1)[1])  # noqa: S314 (our own output)
    assert [str(case.get("name")) for case in root.iter("testcase")] == ["audit", "everyone"]
