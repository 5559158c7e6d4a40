"""``fleetaudit merge``: the reports of ``run --shard K/N`` as one run."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from fleetaudit.cli.errors import user_errors
from fleetaudit.cli.options import AllowUnreachable, FailOn, Format, Output
from fleetaudit.cli.reports import check_reports
from fleetaudit.cli.run import finish
from fleetaudit.model.enums import Severity
from fleetaudit.report import OutputFormat


def merge(
    reports: Annotated[
        list[Path],
        typer.Argument(help="JSON reports (--format json) of the shards.", metavar="REPORT"),
    ],
    format: Format = OutputFormat.JSON,
    output: Output = None,
    fail_on: FailOn = Severity.HIGH,
    allow_unreachable: AllowUnreachable = False,
) -> None:
    """Merge shard reports into the report one unsharded run would have written, with the
    exit code that run would have had. Reports of `run --shard K/N` must be all N shards of
    one split (exit 2 otherwise: a missing shard would look like a clean fleet)."""
    with user_errors():
        from fleetaudit.history import load_run_file
        from fleetaudit.shards import merge_runs

        check_reports(format, output)  # a bad -o fails before the work
        merged = merge_runs([load_run_file(path) for path in reports], [str(p) for p in reports])
        finish(merged, format, output, fail_on, allow_unreachable)
