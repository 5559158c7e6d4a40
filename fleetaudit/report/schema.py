"""The JSON Schema of the ``json`` report, built from the models that produce it.

``fleetaudit/data/report.schema.json`` is this schema, shipped for consumers; a test keeps
the file equal to what this module builds and validates real reports against it. Regenerate
with ``python -m fleetaudit.report.schema > fleetaudit/data/report.schema.json``.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import TypeAdapter

from fleetaudit.model.finding import Finding
from fleetaudit.model.host import HostSnapshot
from fleetaudit.model.run import RunResult
from fleetaudit.report.json import SCHEMA_VERSION
from fleetaudit.report.summary import Summary

_ID = "https://fleetaudit.invalid/schemas/report-v{}.json"


def report_schema() -> dict[str, Any]:
    """The schema of the document ``JsonFormatter`` writes."""
    run = RunResult.model_json_schema(mode="serialization", ref_template="#/$defs/{model}")
    defs: dict[str, Any] = run.pop("$defs", {})
    for name in ("snapshots", "findings"):
        run["properties"].pop(name)
        run["required"].remove(name)
    finding = defs["Finding"]
    finding["properties"]["process"] = {"type": "string"}
    finding["properties"]["waived"] = {"type": "boolean"}
    finding["required"] += ["process", "waived"]
    summary = TypeAdapter(Summary).json_schema(mode="serialization")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": _ID.format(SCHEMA_VERSION),
        "title": "fleetaudit JSON report",
        "type": "object",
        "required": ["schema_version", "run", "summary", "hosts", "findings"],
        "properties": {
            "schema_version": {"const": SCHEMA_VERSION},
            "run": run,
            "summary": summary,
            "hosts": {"type": "array", "items": {"$ref": f"#/$defs/{HostSnapshot.__name__}"}},
            "findings": {"type": "array", "items": {"$ref": f"#/$defs/{Finding.__name__}"}},
        },
        "$defs": defs,
    }


if __name__ == "__main__":
    print(json.dumps(report_schema(), indent=2, sort_keys=True))
