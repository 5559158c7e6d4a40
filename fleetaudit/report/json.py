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
from fleetaudit.model.host import HostSnapshot
from fleetaudit.model.run import RunResult
from fleetaudit.report.interface import Formatter
from fleetaudit.report.socket_json import report_objects
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
        separator = "\n"
        for snapshot in run.snapshots:
            yield separator
            yield from host_pieces(snapshot)
            separator = ",\n"
        yield ("\n" if run.snapshots else "") + '],\n"findings": ['
        yield from _items(json.dumps(_finding(f)) for f in run.findings)
        yield "]}\n"


_SOCKETS_PER_PIECE = 2000
_HOST_FIELDS = list(HostSnapshot.model_fields)
_BEFORE_SOCKETS = frozenset(_HOST_FIELDS[: _HOST_FIELDS.index("sockets")])
"""The fields a host's object holds before ``sockets`` (pydantic dumps in field order)."""


def host_pieces(snapshot: HostSnapshot, per_piece: int = _SOCKETS_PER_PIECE) -> Iterator[str]:
    """One host's object, exactly as ``json.dumps(snapshot.model_dump(mode="json"))`` writes
    it, with its sockets written by :func:`~fleetaudit.report.socket_json.report_objects`
    in pieces of ``per_piece``: dumping a busy host's sockets as one list of dicts raised
    the peak by ~1.2 KB per socket (616 against 382 MiB for 200,000 in
    ``bench/host_memory.py``), and took three times as long."""
    if not snapshot.sockets:
        yield json.dumps(snapshot.model_dump(mode="json"))
        return
    data = snapshot.model_dump(mode="json", exclude={"sockets"})
    head = {key: value for key, value in data.items() if key in _BEFORE_SOCKETS}
    tail = {key: value for key, value in data.items() if key not in _BEFORE_SOCKETS}
    yield json.dumps(head)[:-1] + ', "sockets": ['
    sockets = snapshot.sockets
    for start in range(0, len(sockets), per_piece):
        yield (", " if start else "") + ", ".join(
            report_objects(sockets[start : start + per_piece])
        )
    yield "]" + (", " + json.dumps(tail)[1:] if tail else "}")


def _items(encoded: Iterator[str]) -> Iterator[str]:
    """Array items, one per line: each preceded by a newline, and a comma between them."""
    separator = "\n"
    for item in encoded:
        yield separator + item
        separator = ",\n"
    if separator != "\n":
        yield "\n"
