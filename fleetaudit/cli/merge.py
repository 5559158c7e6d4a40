"""``fleetaudit merge``: the reports of ``run --shard K/N`` as one run."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer

from fleetaudit.cli.console import say
from fleetaudit.cli.errors import user_errors
from fleetaudit.cli.options import AllowUnreachable, FailOn, Format, Output
from fleetaudit.cli.reports import check_reports
from fleetaudit.cli.run import finish
from fleetaudit.model.enums import Severity
from fleetaudit.report import OutputFormat
from fleetaudit.report.escape import terminal_safe

DEFAULT_MAX_SPREAD_HOURS = 6.0
"""``fleetaudit.merge.DEFAULT_MAX_SPREAD`` in hours (repeated here: the CLI imports the
merge machinery only when it runs)."""


def merge(
    reports: Annotated[
        list[Path],
        typer.Argument(help="JSON reports (--format json) of the shards.", metavar="REPORT"),
    ],
    format: Format = OutputFormat.JSON,
    output: Output = None,
    fail_on: FailOn = Severity.HIGH,
    allow_unreachable: AllowUnreachable = False,
    max_spread: Annotated[
        float,
        typer.Option(
            min=0,
            max=24 * 366,
            metavar="HOURS",
            help="Refuse reports whose runs started more than this many hours apart (a "
            "report left over from an earlier run).",
        ),
    ] = DEFAULT_MAX_SPREAD_HOURS,
) -> None:
    """Merge shard reports into the report one unsharded run would have written, with the
    exit code that run would have had. Reports of `run --shard K/N` must be all N shards of
    one split, of one policy (same rules and waivers), started within --max-spread hours,
    holding every host they were split from (exit 2 otherwise: a missing shard would look
    like a clean fleet). Shards that differ in host-key checking or fleetaudit version
    merge with a warning; the merged report shows the weakest host-key checking. The
    metrics count the merge as a full audit only when the shards' selection was the whole
    inventory (no --limit). A shard stopped by a signal makes its unfinished hosts
    "interrupted" and the merge exit 2, not 130/143."""
    with user_errors():
        from fleetaudit.history import load_run_file
        from fleetaudit.merge import merge_shards

        check_reports(format, output)  # a bad -o fails before the work
        runs = [load_run_file(path) for path in reports]
        spread = timedelta(hours=max_spread)
        merged = merge_shards(runs, [str(p) for p in reports], max_spread=spread)
        for note in merged.notes:
            say(terminal_safe(note))  # names and versions read from the files
        finish(
            merged.run, format, output, fail_on, allow_unreachable,
            whole_fleet=merged.whole_fleet, signalled=False,
        )  # fmt: skip
