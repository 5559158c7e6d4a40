"""Runs saved as files: ``fleetaudit snapshot`` output, or a ``--format json`` report."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from fleetaudit import __version__
from fleetaudit.errors import InputError
from fleetaudit.model.run import RunResult

_REPORT_ONLY = ("process", "waived")
_UNKNOWN_FIELD = frozenset({"extra_forbidden", "unexpected_keyword_argument"})


def load_run_file(
    path: Path, *, on_unknown_fields: Callable[[str], None] | None = None
) -> RunResult:
    """A run from a snapshot file or a JSON report; InputError when it is neither.

    A newer release may add fields (the report's ``schema_version`` changes only when a
    field is removed or changes meaning). With ``on_unknown_fields``, fields this release
    does not know are left out and it is told which, so that a merge host upgraded after
    its shard runners still merges; without it they are refused."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"cannot read a run from this file: {exc}", path=path) from exc
    report = isinstance(data, dict) and "schema_version" in data
    if report:
        data = _from_report(data)
    try:
        return RunResult.model_validate(data)
    except ValidationError as exc:
        unknown = _unknown_fields(exc)
        if on_unknown_fields is None or not unknown:
            raise _not_a_run(exc, path, report) from exc
    for location in unknown:  # bounded by the errors pydantic reported
        _drop(data, location)
    try:
        run = RunResult.model_validate(data)
    except ValidationError as exc:
        raise _not_a_run(exc, path, report) from exc
    names = sorted({str(location[-1]) for location in unknown})
    on_unknown_fields(
        f"{path}: fields unknown to fleetaudit {__version__} left out "
        f"({', '.join(names[:10])}): written by fleetaudit {run.fleetaudit_version}"
    )
    return run


def _not_a_run(exc: ValidationError, path: Path, report: bool) -> InputError:
    """The first error, located as in the file (a report's hosts are the run's snapshots)."""
    first = exc.errors(include_url=False)[0]
    location = list(first["loc"])
    if report and location[:1] == ["snapshots"]:
        location[0] = "hosts"
    where = ".".join(str(part) for part in location)
    return InputError(f"not a fleetaudit run: {where}: {first['msg']}", path=path)


def _unknown_fields(exc: ValidationError) -> list[tuple[str | int, ...]]:
    """Where the fields are that no model has, when those are all that is wrong (models
    and the slotted dataclasses of sockets word it differently)."""
    errors = exc.errors(include_url=False)
    if any(error["type"] not in _UNKNOWN_FIELD for error in errors):
        return []
    return [tuple(error["loc"]) for error in errors]


def _drop(data: Any, location: tuple[str | int, ...]) -> None:
    """Delete the key at ``location`` (keys and list indexes) from ``data``."""
    *parents, key = location
    for part in parents:
        data = data[part]
    del data[key]


def _from_report(report: dict[str, Any]) -> dict[str, Any]:
    """The RunResult inside a JSON report (which splits hosts and findings out of run)."""
    findings = [
        {key: value for key, value in finding.items() if key not in _REPORT_ONLY}
        for finding in report.get("findings", [])
    ]
    return {**report.get("run", {}), "snapshots": report.get("hosts", []), "findings": findings}
