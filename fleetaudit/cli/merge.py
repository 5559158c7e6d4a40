"""``fleetaudit merge``: the reports of ``run --shard K/N`` as one run."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from fleetaudit.cli.console import say
from fleetaudit.cli.errors import user_errors
from fleetaudit.cli.finish import finish
from fleetaudit.cli.history import read_run_file
from fleetaudit.cli.options import (
    AllowUnreachable,
    Database,
    FailOn,
    Format,
    KeepDays,
    MaxUnreachable,
    Output,
    given_on_command_line,
    seconds,
)
from fleetaudit.cli.recording import check_history, forget_old_runs, last_success_in, remember
from fleetaudit.cli.reports import check_reports
from fleetaudit.cli.run import unreachable_limit
from fleetaudit.errors import InputError
from fleetaudit.model.enums import Severity
from fleetaudit.report import OutputFormat
from fleetaudit.report.escape import terminal_safe
from fleetaudit.report.summary import first_names

if TYPE_CHECKING:
    from fleetaudit.history.coverage import Coverage
    from fleetaudit.merge import Merged

DEFAULT_MAX_SPREAD_HOURS = 6.0
"""``fleetaudit.merge.DEFAULT_MAX_SPREAD`` in hours (repeated here: the CLI imports the
merge machinery only when it runs)."""


def merge(
    ctx: typer.Context,
    reports: Annotated[
        list[Path],
        typer.Argument(help="JSON reports (--format json) of the shards.", metavar="REPORT"),
    ],
    format: Format = OutputFormat.JSON,
    output: Output = None,
    fail_on: FailOn = Severity.HIGH,
    allow_unreachable: AllowUnreachable = False,
    max_unreachable: MaxUnreachable = None,
    max_spread: Annotated[
        float,
        typer.Option(
            callback=seconds(0, 24 * 366),
            metavar="HOURS",
            help="Refuse reports whose runs started more than this many hours apart (a "
            "report left over from an earlier run; 0 to 8784).",
        ),
    ] = DEFAULT_MAX_SPREAD_HOURS,
    inventory: Annotated[
        Path | None,
        typer.Option(
            metavar="FILE",
            help="The inventory the shards were run with: the merged run is then checked "
            "against it and recorded in the history (--db) as one run of it, as an "
            "unsharded run would be (for diff, history and the prom last-success metric). "
            "Without it nothing is recorded.",
            dir_okay=False,
        ),
    ] = None,
    db: Database = None,
    keep_days: KeepDays = None,
) -> None:
    """Merge shard reports into the report one unsharded run would have written, with the
    exit code that run would have had. Reports of `run --shard K/N` must be all N shards of
    one split, of one policy (same rules and waivers), started within --max-spread hours,
    holding every host they were split from (exit 2 otherwise: a missing shard would look
    like a clean fleet). Shards that differ in host-key checking or fleetaudit version
    merge with a warning; the merged report shows the weakest host-key checking and the
    newest version. The metrics count the merge as a full audit only when the shards'
    selection was the whole inventory (no --limit). A shard stopped by a signal makes its
    unfinished hosts "interrupted" and the merge exit 2, not 130/143.

    With --inventory (the inventory the shards ran with, checked against them), the merged
    run is recorded in the history as one run of that inventory, as an unsharded run is;
    run the shards with --no-history. Merging the night again, after running a failed
    shard again, replaces its record. Without it nothing is recorded."""
    with user_errors():
        from fleetaudit.history import default_db_path
        from fleetaudit.merge import merge_shards

        recorded = (db or default_db_path()) if inventory is not None else None
        reads = [*(("shard report", path) for path in reports), ("inventory", inventory),
                 ("history database", recorded)]  # fmt: skip
        check_reports(format, output, reads)  # a bad -o fails before the work
        most_unreached = unreachable_limit(max_unreachable)
        runs = [read_run_file(path) for path in reports]
        spread = timedelta(hours=max_spread)
        merged = merge_shards(runs, [str(p) for p in reports], max_spread=spread)
        for note in merged.notes:
            say(terminal_safe(note))  # names and versions read from the files
        record: Callable[[int], None] | None = None
        retain: Callable[[], None] | None = None
        last_success, whole_fleet = None, merged.whole_fleet
        if inventory is None:
            _nothing_to_record(ctx, keep_days)
        else:
            covered = _coverage(inventory, merged)
            shard_ids = [run.run_id for run in runs]
            replaced = _earlier_merges(db, shard_ids, merged.run.run_id)
            # Read before recording, as run does: this merge must not be its own last
            # success, nor may the merge of the same night it replaces.
            last_success = last_success_in(db, covered.inventory, replaced)
            whole_fleet = covered.whole

            def record(code: int) -> None:
                remember(merged.run, code, db, covered, shards=shard_ids, keep_days=keep_days)

            if keep_days is not None:
                retain = partial(forget_old_runs, db, keep_days, merged.run.run_id)

        finish(
            merged.run, format, output, fail_on, allow_unreachable, record=record,
            retain=retain, last_success=last_success, whole_fleet=whole_fleet,
            signalled=False, max_unreachable=most_unreached,
        )  # fmt: skip


def _nothing_to_record(ctx: typer.Context, keep_days: int | None) -> None:
    """Refuse --db and --keep-days given on the command line without --inventory: the user
    expects the merge recorded, and it would silently not be. FLEETAUDIT_DB in the
    environment (set for run) is no such request."""
    if given_on_command_line(ctx, "db") or keep_days is not None:
        raise InputError(
            "--db and --keep-days record the merged run, which needs --inventory (the "
            "inventory the shards were run with)"
        )


def _earlier_merges(db: Path | None, shard_ids: list[str], merged_id: str) -> list[str]:
    """The recorded merges of this night, which this merge replaces: the same shards merged
    again (the same id), or merged after some of them were run again (a merge that shares
    a shard run with this one). InputError when the shards are recorded there as runs of
    their own: the default ``diff`` would then compare the night with its own last shard,
    which started after the merged run's start, and show none of the night's changes."""
    from fleetaudit.history import HistoryStore, default_db_path

    check_history(db)  # before reading: a reader may leave -wal/-shm files behind
    path = db or default_db_path()
    if not path.is_file():
        return []  # nothing recorded yet (the recording creates it)
    with HistoryStore.open_read_only(path) as store:
        shards_recorded = store.recorded(shard_ids)
        replaced = store.earlier_merges(merged_id, shard_ids)
    if shards_recorded:
        raise InputError(
            f"the shards' own runs are recorded in this history ({first_names(shards_recorded, 3)}"
            "): a merged night recorded next to them would be compared with its own shards. "
            "Run the shards with --no-history, or record the merge in another --db",
            path=path,
        )
    if merged_id in replaced:
        say(
            f"run {merged_id} (these shards) is in the history already: replaced when this "
            "merge is recorded"
        )
    if sharing := [run_id for run_id in replaced if run_id != merged_id]:
        runs = "run" if len(sharing) == 1 else "runs"
        say(
            f"merged {runs} {first_names(sharing, 3)} in the history used some of these shard "
            "reports (the night merged again after shards were run again): replaced when "
            "this merge is recorded"
        )
    return replaced


def _coverage(inventory: Path, merged: Merged) -> Coverage:
    from fleetaudit.history.coverage import merged_coverage
    from fleetaudit.inventory import load_inventory_names

    return merged_coverage(
        inventory,
        (h.name for h in load_inventory_names(inventory).hosts),
        (s.host for s in merged.run.snapshots),
        split_from_all=merged.whole_fleet,
    )
