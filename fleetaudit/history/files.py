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
_REPORT_PARTS = frozenset({"schema_version", "run", "summary", "hosts", "findings"})
"""A report's top-level keys; ``summary`` is derived from the rest and never read."""
_NAMED = 10
"""Unknown fields named one by one in the note; the rest are counted."""


def load_run_file(
    path: Path, *, on_unknown_fields: Callable[[str], None] | None = None
) -> RunResult:
    """A run from a snapshot file or a JSON report; InputError when it is neither.

    A newer release may add fields (the report's ``schema_version`` changes only when a
    field is removed or changes meaning). With ``on_unknown_fields``, fields this release
    does not know are left out and it is told which, so that a merge host upgraded after
    its shard runners still merges; without it they are refused."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read a run from this file: {exc}", path=path) from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(_not_json(text, exc), path=path) from exc
    report = isinstance(data, dict) and "schema_version" in data
    unknown: list[str] = []
    if report:
        unknown = sorted(data.keys() - _REPORT_PARTS)  # never read, in either mode
        data = _from_report(data)
    try:
        run = RunResult.model_validate(data)
    except ValidationError as exc:
        locations = _unknown_fields(exc)
        if on_unknown_fields is None or not locations:
            raise _not_a_run(exc, path, report) from exc
        run = _without(data, locations, path, report)
        unknown += [str(location[-1]) for location in locations]
    if unknown and on_unknown_fields is not None:
        on_unknown_fields(_left_out(path, unknown, run.fleetaudit_version))
    return run


def _not_json(text: str, exc: json.JSONDecodeError) -> str:
    """Why a file that is no JSON holds no run, saying what it is instead where that is
    clear (nothing at all; a saved listing, which `check` takes), else where the JSON
    stops."""
    if not text.strip():
        return "cannot read a run from this file: it is empty"
    wanted = "a JSON report (`run -f json`) or a `snapshot` file is expected"
    if _is_listing(text):
        return f"this is a socket listing, not a run: {wanted} (`check` judges a listing)"
    return (
        f"cannot read a run from this file: it is not JSON ({exc.msg} at line {exc.lineno}, "
        f"column {exc.colno}): {wanted}"
    )


def _is_listing(text: str) -> bool:
    from fleetaudit.errors import CaptureError
    from fleetaudit.parse import detect_tool

    try:
        detect_tool(text)
    except CaptureError:
        return False
    return True


def _without(
    data: Any, locations: list[tuple[str | int, ...]], path: Path, report: bool
) -> RunResult:
    """The run validated once the fields at ``locations`` are deleted from ``data``."""
    for location in locations:  # bounded by the errors pydantic reported
        *parents, key = location
        parent = data
        for part in parents:
            parent = parent[part]
        del parent[key]
    try:
        return RunResult.model_validate(data)
    except ValidationError as exc:
        raise _not_a_run(exc, path, report) from exc


def _left_out(path: Path, fields: list[str], version: str) -> str:
    """The one line that says which unknown fields were left out, bounded in length."""
    names = sorted({name if len(name) <= 60 else name[:59] + "…" for name in fields})
    shown = ", ".join(names[:_NAMED]) + (
        f" and {len(names) - _NAMED} more" if len(names) > _NAMED else ""
    )
    writer = (
        f"the file says fleetaudit {version} wrote it, which does not know them either "
        "(edited by hand?)"
        if version == __version__
        else f"written by fleetaudit {version}"
    )
    return f"{path}: fields unknown to fleetaudit {__version__} left out ({shown}): {writer}"


def _not_a_run(exc: ValidationError, path: Path, report: bool) -> InputError:
    """The first error that is not an unknown field (those a reader may leave out),
    located as in the file (a report's hosts are the run's snapshots)."""
    errors = exc.errors(include_url=False)
    first = next((e for e in errors if e["type"] not in _UNKNOWN_FIELD), errors[0])
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


def _from_report(report: dict[str, Any]) -> dict[str, Any]:
    """The RunResult inside a JSON report (which splits hosts and findings out of run)."""
    findings = [
        {key: value for key, value in finding.items() if key not in _REPORT_ONLY}
        for finding in report.get("findings", [])
    ]
    return {**report.get("run", {}), "snapshots": report.get("hosts", []), "findings": findings}
