"""Runs saved as files: ``fleetaudit snapshot`` output, or a ``--format json`` report."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from fleetaudit.errors import InputError
from fleetaudit.model.run import RunResult

_REPORT_ONLY = ("process", "waived")


def load_run_file(path: Path) -> RunResult:
    """A run from a snapshot file or a JSON report; InputError when it is neither."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"cannot read a run from this file: {exc}", path=path) from exc
    if isinstance(data, dict) and "schema_version" in data:
        data = _from_report(data)
    try:
        return RunResult.model_validate(data)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(part) for part in first["loc"])
        raise InputError(f"not a fleetaudit run: {where}: {first['msg']}", path=path) from exc


def _from_report(report: dict[str, Any]) -> dict[str, Any]:
    """The RunResult inside a JSON report (which splits hosts and findings out of run)."""
    findings = [
        {key: value for key, value in finding.items() if key not in _REPORT_ONLY}
        for finding in report.get("findings", [])
    ]
    return {**report.get("run", {}), "snapshots": report.get("hosts", []), "findings": findings}
