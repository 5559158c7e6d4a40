"""The JSON report: one schema-versioned document with every host, socket and finding.

``schema_version`` changes only when a field is removed or changes meaning; new fields may
appear in any release, so consumers should ignore keys they do not know.

The document is written one host and one finding per line, each encoded by json's C encoder:
pretty-printing with ``indent`` forces the pure-Python encoder, which on a thousand-host run
costs more than everything else the run does, and building the whole document as one dict
doubles its memory.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from typing import Any

from fleetaudit.model.finding import Finding
from fleetaudit.model.run import RunResult
from fleetaudit.report.interface import Formatter
from fleetaudit.report.summary import summarize

SCHEMA_VERSION = 1


def _finding(finding: Finding) -> dict[str, Any]:
    data = finding.model_dump(mode="json")
    data["process"] = finding.process
    data["waived"] = finding.waived
    return data


def _head(run: RunResult) -> dict[str, Any]:
    """Everything in the document but its hosts and findings."""
    return {
        "schema_version": SCHEMA_VERSION,
        "run": run.model_dump(mode="json", exclude=_run_exclude(run)),
        "summary": dataclasses.asdict(summarize(run)),
    }


def _run_exclude(run: RunResult) -> set[str]:
    """Hosts and findings have their own keys; ``shard`` appears only on shard reports, so
    that a whole run's report stays valid under schemas older than the field."""
    return {"snapshots", "findings"} | ({"shard"} if run.shard is None else set())


def run_document(run: RunResult) -> dict[str, Any]:
    """The report as plain JSON-ready data (the same content the formatter writes)."""
    return {
        **_head(run),
        "hosts": [snapshot.model_dump(mode="json") for snapshot in run.snapshots],
        "findings": [_finding(finding) for finding in run.findings],
    }


class JsonFormatter(Formatter):
    """The whole run as one JSON document, one host or finding per line."""

    def render(self, run: RunResult) -> str:
        """The JSON document (ASCII only: every control character escaped)."""
        return "".join(self.pieces(run))

    def pieces(self, run: RunResult) -> Iterator[str]:
        """The document one host or finding at a time: a thousand-host report is never
        held whole, nor as the list of its lines."""
        yield json.dumps(_head(run))[:-1] + ',\n"hosts": ['
        yield from _items(json.dumps(s.model_dump(mode="json")) for s in run.snapshots)
        yield '],\n"findings": ['
        yield from _items(json.dumps(_finding(f)) for f in run.findings)
        yield "]}\n"


def _items(encoded: Iterator[str]) -> Iterator[str]:
    """Array items, one per line: each preceded by a newline, and a comma between them."""
    separator = "\n"
    for item in encoded:
        yield separator + item
        separator = ",\n"
    if separator != "\n":
        yield "\n"
