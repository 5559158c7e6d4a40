"""JSON Lines: a run record, then one object per host status and per finding, for log
shippers.

Every line has a ``type`` (``run``, ``host``, ``finding``) and carries the run id and time,
so that lines can be shipped one by one. The ``run`` line comes first: the policy, how the
run ended (``interrupted_by``, ``exit_code``) and the host counts, so that a run that could
not see part of the fleet never reads as clean to someone who only counts findings.
"""

from __future__ import annotations

import json
from typing import Any

from fleetaudit.model.finding import Finding
from fleetaudit.model.host import HostSnapshot
from fleetaudit.model.run import RunResult
from fleetaudit.report.interface import Formatter
from fleetaudit.report.summary import summarize


class JsonLinesFormatter(Formatter):
    """``{"type": "run", ...}``, then ``{"type": "host", ...}`` per host, then
    ``{"type": "finding", ...}`` per finding."""

    def __init__(self, exit_code: int | None = None) -> None:
        self.exit_code = exit_code
        """The code the process exits with, when the caller knows it (the verdict depends on
        ``--fail-on`` and ``--allow-unreachable``, which the run does not hold): null
        otherwise."""

    def render(self, run: RunResult) -> str:
        """One JSON object per line."""
        common = {"run_id": run.run_id, "time": run.started_at.isoformat()}
        lines = [_run(common, run, self.exit_code)]
        lines += [_host(common, snapshot) for snapshot in run.snapshots]
        lines += [_finding(common, finding) for finding in run.findings]
        return "".join(json.dumps(line, sort_keys=True) + "\n" for line in lines)


def _run(common: dict[str, Any], run: RunResult, exit_code: int | None) -> dict[str, Any]:
    """The run record: what the run judged against, how it ended, how much it saw."""
    summary = summarize(run)
    return {
        **common,
        "type": "run",
        "finished_at": run.finished_at.isoformat(),
        "fleetaudit_version": run.fleetaudit_version,
        "policy": run.policy_name,
        "policy_source": run.policy_source,
        "host_key_policy": run.host_key_policy.value,
        "interrupted_by": run.interrupted_by,
        "exit_code": exit_code,
        "hosts_total": summary.hosts_total,
        "hosts_audited": summary.hosts_audited,
        "hosts_not_audited": summary.hosts_total - summary.hosts_audited,
        "hosts_by_status": summary.hosts_by_status,
        "findings": len(run.active_findings),
        "findings_by_severity": summary.findings_by_severity,
        "findings_waived": summary.findings_waived,
        "waivers_expired": summary.waivers_expired,
    }


def _host(common: dict[str, Any], snapshot: HostSnapshot) -> dict[str, Any]:
    return {
        **common,
        "type": "host",
        "host": snapshot.host,
        "status": snapshot.status.value,
        "error": snapshot.error,
        "privilege": snapshot.privilege.value if snapshot.privilege else None,
        "listeners": len(snapshot.listeners),
    }


def _finding(common: dict[str, Any], finding: Finding) -> dict[str, Any]:
    """A finding; one whose waiver expired says so before its message (as every report
    does), and ``waiver`` is the matched waiver as the JSON report gives it (or null)."""
    socket = finding.socket
    return {
        **common,
        "type": "finding",
        "host": finding.host,
        "rule_id": finding.rule_id,
        "severity": finding.severity.value,
        "message": finding.expired_waiver_note + finding.message,
        "fingerprint": finding.fingerprint,
        "waived": finding.waived,
        "waiver": finding.waiver.model_dump(mode="json") if finding.waiver else None,
        "listener": socket.endpoint if socket else None,
        "proto": socket.proto.value if socket else None,
        "process": finding.process or None,
    }
