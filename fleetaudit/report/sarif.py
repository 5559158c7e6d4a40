"""SARIF 2.1.0: one result per finding, with rule metadata, a level from the severity and a
stable ``partialFingerprints`` entry, so code-scanning dashboards track findings across runs.

A host and its listener are not files: each result gets a logical location
(``host/proto/address:port``) and an artifact URI ``fleetaudit://HOST`` that viewers show.
Waived findings carry an accepted external suppression with the waiver's reason. A host that
could not be audited has no results, so it must not look clean: the invocation is marked
unsuccessful and names each such host in a tool execution notification.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from fleetaudit.model.enums import Severity
from fleetaudit.model.finding import Finding
from fleetaudit.model.run import RuleInfo, RunResult
from fleetaudit.report.interface import Formatter

# The schema published with the OASIS standard (errata 01); the tests validate against it.
SCHEMA_URI = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
_LEVEL = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFO: "note",
}
# GitHub code scanning reads this property (0.1-10) to rank security results.
_SECURITY_SEVERITY = {
    Severity.CRITICAL: "9.5",
    Severity.HIGH: "8.0",
    Severity.MEDIUM: "5.5",
    Severity.LOW: "3.0",
    Severity.INFO: "1.0",
}


class SarifFormatter(Formatter):
    """The SARIF log of the run."""

    def render(self, run: RunResult) -> str:
        """The SARIF document (JSON)."""
        index = {rule.id: position for position, rule in enumerate(run.rules)}
        driver = {
            "name": "fleetaudit",
            "version": run.fleetaudit_version,
            "informationUri": "https://pypi.org/project/fleetaudit/",
            "rules": [_rule(rule) for rule in run.rules],
        }
        document = {
            "$schema": SCHEMA_URI,
            "version": "2.1.0",
            "runs": [
                {
                    "tool": {"driver": driver},
                    "automationDetails": {"id": f"fleetaudit/{run.run_id}"},
                    "invocations": [_invocation(run)],
                    "results": [_result(finding, index) for finding in run.findings],
                }
            ],
        }
        return json.dumps(document, indent=2) + "\n"


def _invocation(run: RunResult) -> dict[str, Any]:
    """When the run happened and which hosts it could not audit (and why)."""
    failed = run.failed_hosts
    return {
        "executionSuccessful": not failed and run.interrupted_by is None,
        "startTimeUtc": _utc(run.started_at),
        "endTimeUtc": _utc(run.finished_at),
        "toolExecutionNotifications": [
            {
                "descriptor": {"id": "host-not-audited"},
                "level": "error",
                "message": {
                    "text": f"{snapshot.host}: {snapshot.status.value}: "
                    f"{snapshot.error or 'not audited'}"
                },
                "locations": [
                    {"physicalLocation": {"artifactLocation": {"uri": _host_uri(snapshot.host)}}}
                ],
            }
            for snapshot in failed
        ],
    }


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _host_uri(host: str) -> str:
    return f"fleetaudit://{host}"


def _rule(rule: RuleInfo) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "id": rule.id,
        "name": rule.id,
        "shortDescription": {"text": f"{rule.kind}: {rule.id}"},
        "fullDescription": {"text": rule.description},
        "defaultConfiguration": {"level": _LEVEL[rule.severity]},
        "properties": {
            "security-severity": _SECURITY_SEVERITY[rule.severity],
            "tags": ["security", "network", rule.kind],
        },
    }
    if rule.fix:
        entry["help"] = {"text": rule.fix}
    return entry


def _result(finding: Finding, index: dict[str, int]) -> dict[str, Any]:
    socket = finding.socket
    where = (
        finding.host if socket is None else f"{finding.host}/{socket.proto.value}/{socket.endpoint}"
    )
    result: dict[str, Any] = {
        "ruleId": finding.rule_id,
        "level": _LEVEL[finding.severity],
        "message": {"text": finding.message},
        "locations": [
            {
                "physicalLocation": {"artifactLocation": {"uri": _host_uri(finding.host)}},
                "logicalLocations": [{"fullyQualifiedName": where, "kind": "resource"}],
            }
        ],
        "partialFingerprints": {"fleetaudit/v1": finding.fingerprint},
        "properties": {"severity": finding.severity.value},
    }
    if finding.rule_id in index:
        result["ruleIndex"] = index[finding.rule_id]
    if finding.waiver is not None and not finding.waiver.expired:
        result["suppressions"] = [
            {"kind": "external", "status": "accepted", "justification": finding.waiver.reason}
        ]
    return result
