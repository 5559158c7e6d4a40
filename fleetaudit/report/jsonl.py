"""JSON Lines: one object per host status and per finding, for log shippers."""

from __future__ import annotations

import json
from typing import Any

from fleetaudit.model.run import RunResult
from fleetaudit.report.interface import Formatter


class JsonLinesFormatter(Formatter):
    """``{"type": "host", ...}`` per host, then ``{"type": "finding", ...}`` per finding;
    every line carries the run id and time so that lines can be shipped one by one."""

    def render(self, run: RunResult) -> str:
        """One JSON object per line."""
        common = {"run_id": run.run_id, "time": run.started_at.isoformat()}
        lines = [_host(common, snapshot) for snapshot in run.snapshots]
        lines += [_finding(common, finding) for finding in run.findings]
        return "".join(json.dumps(line, sort_keys=True) + "\n" for line in lines)


def _host(common: dict[str, Any], snapshot: Any) -> dict[str, Any]:
    return {
        **common,
        "type": "host",
        "host": snapshot.host,
        "status": snapshot.status.value,
        "error": snapshot.error,
        "privilege": snapshot.privilege.value if snapshot.privilege else None,
        "listeners": len(snapshot.listeners),
    }


def _finding(common: dict[str, Any], finding: Any) -> dict[str, Any]:
    socket = finding.socket
    return {
        **common,
        "type": "finding",
        "host": finding.host,
        "rule_id": finding.rule_id,
        "severity": finding.severity.value,
        "message": finding.message,
        "fingerprint": finding.fingerprint,
        "waived": finding.waived,
        "listener": socket.endpoint if socket else None,
        "proto": socket.proto.value if socket else None,
        "process": finding.process or None,
    }
