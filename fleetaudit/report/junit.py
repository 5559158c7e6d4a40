"""JUnit XML: a testsuite per host, a testcase per finding, so CI dashboards show every
finding on its own line without any plugin.

What CI reporters (Jenkins, GitLab, GitHub test reporters) read: one ``<failure>``,
``<error>`` or ``<skipped>`` per testcase at most (many show only the first), and
``tests``/``failures``/``errors``/``skipped`` counts that add up (failures never exceed
tests). They track a test across builds by classname (the host) and name, so a name must be
stable from run to run:

- ``audit``: passes when the host was audited, an ``<error>`` when it could not be;
- ``RULE PROTO/ADDRESS:PORT`` (``RULE host #FINGERPRINT`` for a finding about the whole
  host): one per finding, from the parts of the finding's stable identity (never a PID);
  should two findings still share a name, each gets ``#`` and the start of its fingerprint;
- ``RULE``: passes when the rule found nothing on the host; a rule whose ``select:`` left
  the host out has no case there (it never looked; a report of an older release, which
  does not say, shows every rule).

A waived finding is ``<skipped message="waived until DATE: reason">``; a finding whose
waiver has expired fails with the expired-waiver note before its message.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET  # noqa: S405 (writing XML, never parsing it)
from collections import Counter
from dataclasses import dataclass

from fleetaudit.model.finding import Finding
from fleetaudit.model.host import HostSnapshot
from fleetaudit.model.run import RunResult
from fleetaudit.report.escape import terminal_safe
from fleetaudit.report.interface import Formatter
from fleetaudit.report.summary import UNVERIFIED_HOST_KEY

_OUTCOMES = ("failure", "error", "skipped")
"""The child that marks a testcase that did not pass, and the count attribute it feeds
(``failures``, ``errors``, ``skipped``)."""


@dataclass(frozen=True)
class _Case:
    """One testcase: its name and, unless it passed, its outcome element, message, type."""

    name: str
    outcome: str | None = None
    message: str = ""
    kind: str = ""
    detail: tuple[str, ...] = ()
    """The outcome element's text, line by line (a line break inside one, from a host, is
    escaped: it must not forge a line such as ``severity: info``)."""
    output: str = ""
    """The testcase's ``system-out``, shown even when it passed."""


class JunitFormatter(Formatter):
    """``<testsuites>`` for the run."""

    def render(self, run: RunResult) -> str:
        """The XML document."""
        # no id or skipped on the root: Jenkins' JUnit schema (xunit's junit-10.xsd) refuses
        # them there; each testsuite carries its skipped count
        root = ET.Element("testsuites", name="fleetaudit")
        by_host: dict[str, list[Finding]] = {s.host: [] for s in run.snapshots}
        for found in run.findings:
            by_host.setdefault(found.host, []).append(found)
        totals: Counter[str] = Counter()
        for snapshot in run.snapshots:
            suite = _suite(snapshot.host, _cases(run, snapshot, by_host[snapshot.host]))
            for attribute in ("tests", "failures", "errors", "skipped"):
                totals[attribute] += int(suite.get(attribute, "0"))
            root.append(suite)
        for attribute in ("tests", "failures", "errors"):
            root.set(attribute, str(totals[attribute]))
        ET.indent(root)
        return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, "unicode") + "\n"


def _cases(run: RunResult, snapshot: HostSnapshot, findings: list[Finding]) -> list[_Case]:
    """The host's testcases: the audit itself, then rule by rule its findings (or a passing
    case for a rule that found nothing). A host not audited has only its ``audit`` error:
    its rules were not checked, so they neither pass nor fail."""
    if not snapshot.status.audited:
        message = snapshot.error or snapshot.status.value
        return [_Case("audit", "error", message, snapshot.status.value, (message,))]
    unverified = snapshot.host_key_checked is False
    cases = [_Case("audit", output=UNVERIFIED_HOST_KEY if unverified else "")]
    judged = snapshot.rules_judged
    rule_ids = [rule.id for rule in run.rules if judged is None or rule.id in judged]
    rule_ids += sorted({f.rule_id for f in findings} - set(rule_ids))  # rules not in run.rules
    names = _names(findings)
    for rule_id in rule_ids:
        mine = [f for f in findings if f.rule_id == rule_id]
        cases += [_finding_case(f, names[f.fingerprint]) for f in mine] or [_Case(rule_id)]
    return cases


def _names(findings: list[Finding]) -> dict[str, str]:
    """Each finding's testcase name by fingerprint: ``RULE PROTO/ENDPOINT``, and the start of
    the fingerprint after it where two findings would otherwise share a name, and always
    after ``RULE host``: a rule may report several kinds of gap about one host, and the
    first one's name must not change on the night a second appears (QA)."""
    base = {f.fingerprint: _base_name(f) for f in findings}
    used = Counter(base.values())
    about_host = {f.fingerprint for f in findings if f.socket is None}
    return {
        key: f"{name} #{key[:8]}" if used[name] > 1 or key in about_host else name
        for key, name in base.items()
    }


def _base_name(finding: Finding) -> str:
    socket = finding.socket
    where = "host" if socket is None else f"{socket.proto.value}/{socket.endpoint}"
    return f"{finding.rule_id} {where}"


def _finding_case(finding: Finding, name: str) -> _Case:
    waiver = finding.waiver
    if finding.waived and waiver is not None:
        reason = f"waived until {waiver.expires}: {waiver.reason}"
        if waiver.ticket:
            reason += f" ({waiver.ticket})"
        return _Case(name, "skipped", reason, detail=(finding.message,))
    message = finding.expired_waiver_note + finding.message
    return _Case(name, "failure", message, finding.severity.value, _detail(finding, message))


def _detail(finding: Finding, message: str) -> tuple[str, ...]:
    """The failure's body: the message, then what identifies the finding."""
    lines = [message, f"severity: {finding.severity.value}", f"host: {finding.host}"]
    if finding.socket is not None:
        lines.append(f"process: {finding.process or '-'}")
    lines.append(f"fingerprint: {finding.fingerprint}")
    return tuple(lines)


def _suite(host: str, cases: list[_Case]) -> ET.Element:
    suite = ET.Element("testsuite", name=_text(host))
    counts = Counter(case.outcome for case in cases)
    suite.set("tests", str(len(cases)))
    suite.set("failures", str(counts["failure"]))
    suite.set("errors", str(counts["error"]))
    suite.set("skipped", str(counts["skipped"]))
    for case in cases:
        suite.append(_testcase(host, case))
    return suite


def _testcase(host: str, case: _Case) -> ET.Element:
    element = ET.Element("testcase", name=_text(case.name), classname=_text(host))
    if case.outcome in _OUTCOMES:
        child = ET.SubElement(element, case.outcome, message=_text(case.message))
        if case.kind:
            child.set("type", case.kind)
        # fleetaudit's own line breaks stay; every control inside a line is made visible
        child.text = "\n".join(map(_text, case.detail)) if case.detail else None
    if case.output:
        ET.SubElement(element, "system-out").text = _text(case.output)
    return element


def _text(value: str) -> str:
    # XML 1.0 cannot carry most control characters even escaped: make them visible.
    return terminal_safe(value)
