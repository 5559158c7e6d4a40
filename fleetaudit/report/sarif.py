"""SARIF 2.1.0: one result per finding, with rule metadata, a level from the severity and a
stable ``partialFingerprints`` entry, so code-scanning dashboards track findings across runs.

Locations: a host and its listener are not files, but GitHub code scanning refuses an upload
whose artifact URI has a scheme other than the checkout's (``file``): a custom scheme such
as ``fleetaudit://HOST`` fails the whole upload. So every result names its host with a
scheme-less relative URI ``hosts/HOST`` against the base id ``FLEETAUDIT_HOSTS`` (declared
in ``originalUriBaseIds`` as "no file system location"), the form code scanning accepts and
shows, plus a logical location ``HOST/PROTO/ADDRESS:PORT`` for the listener itself.

Waived findings carry an accepted external suppression with the waiver's reason; a finding
whose waiver has expired has none, and its message starts with the expired-waiver note.

A host that could not be audited has no findings, yet code scanning closes (as "fixed")
every alert missing from a new analysis. So each such host gets a result of its own under
the rule ``fleetaudit/host-not-audited`` (level error, stable fingerprint per host): the
dashboard shows an open "not audited" alert instead of a clean host. The invocation is also
marked unsuccessful and names each such host in a tool execution notification.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from fleetaudit.model.enums import Severity
from fleetaudit.model.finding import Finding, fingerprint
from fleetaudit.model.host import HostSnapshot
from fleetaudit.model.run import RuleInfo, RunResult
from fleetaudit.report.interface import Formatter
from fleetaudit.report.summary import UNVERIFIED_HOST_KEY, unverified_hosts

# The schema published with the OASIS standard (errata 01); the tests validate against it.
SCHEMA_URI = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
HOSTS_BASE_ID = "FLEETAUDIT_HOSTS"
"""The ``uriBaseId`` of every host location: hosts are not files of any checkout."""
NOT_AUDITED_RULE = "fleetaudit/host-not-audited"
"""The rule of a host's "not audited" result; policy rule ids cannot contain ``/``."""
_NOT_AUDITED = RuleInfo(
    id=NOT_AUDITED_RULE,
    kind="coverage",
    severity=Severity.HIGH,
    description="The host could not be audited in this run (unreachable, timed out, refused "
    "or unreadable listing): none of its listeners were checked. Its earlier alerts that this "
    "analysis closes were not fixed, only not observed.",
    fix="Make the host reachable for the audit (see the result's message for why it was "
    "not audited) and run the audit again.",
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
        rules = (*run.rules, _NOT_AUDITED)
        index = {rule.id: position for position, rule in enumerate(rules)}
        driver = {
            "name": "fleetaudit",
            "version": run.fleetaudit_version,
            "informationUri": "https://pypi.org/project/fleetaudit/",
            "rules": [_rule(rule) for rule in rules],
        }
        results = [_result(finding, index) for finding in run.findings]
        results += [_not_audited(snapshot, index) for snapshot in run.failed_hosts]
        document = {
            "$schema": SCHEMA_URI,
            "version": "2.1.0",
            "runs": [
                {
                    "tool": {"driver": driver},
                    "automationDetails": {"id": f"fleetaudit/{run.run_id}"},
                    "originalUriBaseIds": {
                        HOSTS_BASE_ID: {
                            "description": {
                                "text": "Audited hosts, named by their inventory name "
                                "(hosts/NAME); not files of any repository."
                            }
                        }
                    },
                    "invocations": [_invocation(run)],
                    "results": results,
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
                "message": {"text": _not_audited_text(snapshot)},
                "locations": [{"physicalLocation": _host_location(snapshot.host)}],
            }
            for snapshot in failed
        ]
        + [
            {
                "descriptor": {"id": "host-key-not-verified"},
                "level": "warning",
                "message": {"text": f"{snapshot.host}: {UNVERIFIED_HOST_KEY}"},
                "locations": [{"physicalLocation": _host_location(snapshot.host)}],
            }
            for snapshot in unverified_hosts(run)
        ],
    }


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def host_uri(host: str) -> str:
    """The relative URI naming ``host`` (against :data:`HOSTS_BASE_ID`); percent-encoded
    so any inventory name is a valid URI reference, and the same run after run, since code
    scanning matches alerts by location as well as by fingerprint."""
    return "hosts/" + quote(host, safe="")


def _host_location(host: str) -> dict[str, Any]:
    return {"artifactLocation": {"uri": host_uri(host), "uriBaseId": HOSTS_BASE_ID}}


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
        # An expired waiver is said first, so nobody takes the finding for a new one.
        "message": {"text": finding.expired_waiver_note + finding.message},
        "locations": [
            {
                "physicalLocation": _host_location(finding.host),
                "logicalLocations": [{"fullyQualifiedName": where, "kind": "resource"}],
            }
        ],
        "partialFingerprints": {"fleetaudit/v1": finding.fingerprint},
        "properties": {"severity": finding.severity.value},
    }
    if finding.rule_id in index:
        result["ruleIndex"] = index[finding.rule_id]
    if finding.waived and finding.waiver is not None:
        result["suppressions"] = [
            {"kind": "external", "status": "accepted", "justification": finding.waiver.reason}
        ]
    return result


def _not_audited(snapshot: HostSnapshot, index: dict[str, int]) -> dict[str, Any]:
    """The open "not audited" alert of a host: one per host whatever the reason, so a host
    that stays down keeps one alert (its fingerprint leaves the status out)."""
    return {
        "ruleId": NOT_AUDITED_RULE,
        "ruleIndex": index[NOT_AUDITED_RULE],
        "level": "error",
        "message": {"text": _not_audited_text(snapshot)},
        "locations": [
            {
                "physicalLocation": _host_location(snapshot.host),
                "logicalLocations": [{"fullyQualifiedName": snapshot.host, "kind": "resource"}],
            }
        ],
        "partialFingerprints": {
            "fleetaudit/v1": fingerprint(NOT_AUDITED_RULE, snapshot.host, None)
        },
        "properties": {"status": snapshot.status.value},
    }


def _not_audited_text(snapshot: HostSnapshot) -> str:
    return (
        f"{snapshot.host} was not audited: {snapshot.status.value}: "
        f"{(snapshot.error or 'not audited').rstrip('.')}. Its listeners were not checked "
        "in this run; alerts of this host that this analysis closes were not observed, not "
        "fixed."
    )
