"""The JSON report: one schema-versioned document with every host, socket and finding.

``schema_version`` changes only when a field is removed or changes meaning; new fields may
appear in any release, so consumers should ignore keys they do not know.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from fleetaudit.model.run import RunResult
from fleetaudit.report.interface import Formatter
from fleetaudit.report.summary import summarize

SCHEMA_VERSION = 1


def run_document(run: RunResult) -> dict[str, Any]:
    """The report as plain JSON-ready data."""
    data = run.model_dump(mode="json")
    hosts = data.pop("snapshots")
    findings = data.pop("findings")
    for finding, model in zip(findings, run.findings, strict=True):
        finding["process"] = model.process
        finding["waived"] = model.waived
    return {
        "schema_version": SCHEMA_VERSION,
        "run": data,
        "summary": dataclasses.asdict(summarize(run)),
        "hosts": hosts,
        "findings": findings,
    }


class JsonFormatter(Formatter):
    """Pretty-printed JSON, ASCII only (every control character escaped)."""

    def render(self, run: RunResult) -> str:
        """The whole run as one JSON document."""
        return json.dumps(run_document(run), indent=2) + "\n"
