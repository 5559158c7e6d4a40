"""JUnit XML: a testsuite per host, a testcase per rule; findings are failures, hosts that
could not be audited are errors. CI dashboards show them without any plugin."""

from __future__ import annotations

import xml.etree.ElementTree as ET  # noqa: S405 (writing XML, never parsing it)

from fleetaudit.model.host import HostSnapshot
from fleetaudit.model.run import RunResult
from fleetaudit.report.escape import terminal_safe
from fleetaudit.report.interface import Formatter


class JunitFormatter(Formatter):
    """``<testsuites>`` for the run."""

    def render(self, run: RunResult) -> str:
        """The XML document."""
        root = ET.Element("testsuites", name="fleetaudit", id=run.run_id)
        for snapshot in run.snapshots:
            root.append(_suite(run, snapshot))
        ET.indent(root)
        return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, "unicode") + "\n"


def _suite(run: RunResult, snapshot: HostSnapshot) -> ET.Element:
    suite = ET.Element("testsuite", name=_text(snapshot.host))
    if not snapshot.status.audited:
        case = ET.SubElement(suite, "testcase", name="audit", classname=_text(snapshot.host))
        error = ET.SubElement(case, "error", type=snapshot.status.value)
        error.set("message", _text(snapshot.error or snapshot.status.value))
        suite.set("tests", "1")
        suite.set("errors", "1")
        suite.set("failures", "0")
        return suite
    failures = 0
    for rule in run.rules:
        case = ET.SubElement(suite, "testcase", name=rule.id, classname=_text(snapshot.host))
        for finding in run.findings:
            if finding.host == snapshot.host and finding.rule_id == rule.id and not finding.waived:
                failure = ET.SubElement(case, "failure", type=finding.severity.value)
                failure.set("message", _text(finding.message))
                failures += 1
    suite.set("tests", str(len(run.rules)))
    suite.set("failures", str(failures))
    suite.set("errors", "0")
    return suite


def _text(value: str) -> str:
    # XML 1.0 cannot carry most control characters even escaped: make them visible.
    return terminal_safe(value)
