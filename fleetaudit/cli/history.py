"""``fleetaudit history``, ``fleetaudit diff`` and ``fleetaudit snapshot``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from fleetaudit.cli import options as opt
from fleetaudit.cli.console import say
from fleetaudit.cli.errors import user_errors
from fleetaudit.cli.inventory import InventoryArgument
from fleetaudit.cli.options import Database, output_file
from fleetaudit.cli.output import one_file, write_report
from fleetaudit.report import DiffFormat, OutputFormat
from fleetaudit.report.escape import terminal_safe

if TYPE_CHECKING:
    from fleetaudit.history import HistoryStore, RunDiff
    from fleetaudit.model.run import RunResult


def history(
    db: Database = None,
    limit: Annotated[
        int,
        typer.Option(min=1, max=opt.MAX_HISTORY_LIMIT, metavar="N", help="How many runs to list."),
    ] = 20,
) -> None:
    """List the stored runs, newest first. "failed" counts the hosts that could not be
    audited, "interrupted" those a stopped run (SIGINT/SIGTERM) did not finish."""
    with user_errors():
        from tabulate import tabulate

        from fleetaudit.history import HistoryStore, default_db_path

        with HistoryStore.open_read_only(db or default_db_path()) as store:
            rows = store.runs(limit)
        table = [
            (r.id, r.started_at[:19], r.policy, r.hosts, r.hosts_broken, r.hosts_interrupted,
             r.findings, r.exit_code)
            for r in rows
        ]  # fmt: skip
        headers = (
            "run", "started (UTC)", "policy", "hosts", "failed", "interrupted", "findings", "exit"
        )  # fmt: skip
        listing = tabulate(table, headers=headers, disable_numparse=True) if rows else "no runs yet"
        write_report(listing + "\n", None)


def diff(
    before: Annotated[
        str | None,
        typer.Argument(
            help="A run id (or unique prefix) from the history, or a snapshot/JSON file."
        ),
    ] = None,
    after: Annotated[
        str | None,
        typer.Argument(
            help="Likewise; default: the latest run of BEFORE's inventory (the latest run, "
            "for a file)."
        ),
    ] = None,
    db: Database = None,
    format: Annotated[
        DiffFormat, typer.Option("--format", "-f", help="Output format.", case_sensitive=False)
    ] = DiffFormat.TABLE,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", parser=output_file, help="Write here instead of stdout."),
    ] = None,
) -> None:
    """What changed between two runs: new and resolved findings, new and removed listeners,
    hosts whose status changed. Without arguments: the latest run and the latest earlier run
    of the same inventory that covered as much (a nightly run is compared with the previous
    nightly run, not with an ad-hoc --limit run between them).

    Exit 0 when nothing changed, 1 when something did (for scripts), 2 on error.
    """
    with user_errors():
        from fleetaudit.history import default_db_path
        from fleetaudit.history.render import render_diff

        files = [("report", ref) for ref in (before, after) if ref and _is_file(ref)]
        one_file(output, [*files, ("history database", db or default_db_path())])
        changes = _diff(before, after, db)
        write_report(render_diff(changes, format), output)
    raise typer.Exit(0 if changes.empty else 1)


def _diff(before: str | None, after: str | None, db: Path | None) -> RunDiff:
    """The diff of the two runs named: two files are compared as they are; a run of the
    history is compared with its exit code, a host it did not audit is compared with the
    last earlier run that did, and the status of a host it was stopped before finishing with
    the last earlier run that finished it, and a listener whose owner the older run could
    not name with the last earlier run that named it (the history is opened read-only, and
    only when needed).
    """
    from fleetaudit.errors import InputError
    from fleetaudit.history import HistoryStore, default_db_path, diff_runs
    from fleetaudit.history.diff import hosts_needing_baseline, hosts_needing_status
    from fleetaudit.history.earlier import (
        baselines,
        last_owners,
        other_inventories,
        status_baselines,
    )
    from fleetaudit.history.owners import needing_last_owner

    for ref in (before, after):
        if ref is None or _is_file(ref):
            continue
        if Path(ref).is_dir():
            raise InputError("is a directory, not a report or snapshot file", path=ref)
        if Path(ref).exists():
            raise InputError("is not a regular file (a report or snapshot is one)", path=ref)
        if _names_a_file(ref):
            raise InputError("no such file (a run id has no '/' and no '.json')", path=ref)
    if before is not None and after is not None and _is_file(before) and _is_file(after):
        return diff_runs(read_run_file(Path(before)), read_run_file(Path(after)))
    from_file = read_run_file(Path(before)) if before and _is_file(before) else None
    with HistoryStore.open_read_only(db or default_db_path()) as store:
        recorded = store.recorded([from_file.run_id]) if from_file else []
        before, after, because = _default_refs(store, before, after, next(iter(recorded), None))
        if not because and not _is_file(before) and not _is_file(after):
            because = other_inventories(store, store.resolve(before), store.resolve(after))
        old, new = from_file or _load(store, before), _load(store, after)
        # A file's run is not in the history: nothing earlier than it is known.
        earlier = (
            {} if _is_file(before) else baselines(store, old, hosts_needing_baseline(old, new))
        )
        statuses = (
            {} if _is_file(before) else status_baselines(store, old, hosts_needing_status(old, new))
        )
        owners = (
            {}
            if _is_file(before)
            else last_owners(store, old, needing_last_owner(old.findings, new.findings))
        )
        codes = [None if _is_file(ref) else store.exit_code(run.run_id)
                 for ref, run in ((before, old), (after, new))]  # fmt: skip
        changes = diff_runs(old, new, earlier, (codes[0], codes[1]), statuses, owners)
        return changes.model_copy(update={"before_chosen_because": because or None})


def _default_refs(
    store: HistoryStore, before: str | None, after: str | None, file_run: str | None
) -> tuple[str, str, str]:
    """``before`` and ``after``, and why one was chosen when it was and skipped runs: the
    latest run of ``before``'s inventory stands in for a missing ``after`` (see
    :func:`newer_of_the_same_inventory`; ``file_run``: the id of the run of the file
    ``before`` when the history holds it, so the file is compared as that run is); for a
    missing ``before`` too,
    the latest earlier run of the same inventory that covered as much (see
    :func:`older_for_default_diff`), else the run before the latest."""
    from fleetaudit.errors import HistoryError
    from fleetaudit.history.earlier import newer_of_the_same_inventory, older_for_default_diff

    if before is None:
        rows = store.runs(2)
        if len(rows) < 2:
            raise HistoryError(
                "the history holds fewer than two runs: nothing to compare yet (the first "
                "run), or give two runs or report files"
            )
        older, because = older_for_default_diff(store, rows[0].id) or (rows[1].id, "")
        return older, rows[0].id, because
    if after is None:
        rows = store.runs(1)
        if not rows:
            raise HistoryError("the history is empty; give two runs to compare")
        if _is_file(before) and file_run is None:
            return before, rows[0].id, ""
        older = file_run or store.resolve(before)
        return before, *newer_of_the_same_inventory(store, older, rows[0].id)
    return before, after, ""


def _load(store: HistoryStore, ref: str) -> RunResult:
    """The run ``ref``: a file, or a run of the history."""
    return read_run_file(Path(ref)) if _is_file(ref) else store.load(ref)


def read_run_file(path: Path) -> RunResult:
    """The run in a report or snapshot file, read by ``diff`` and ``merge``; fields of a
    newer release are left out, with a word on stderr (see ``load_run_file``)."""
    from fleetaudit.history import load_run_file

    return load_run_file(path, on_unknown_fields=lambda note: say(terminal_safe(note)))


def _is_file(ref: str) -> bool:
    return Path(ref).is_file()


def _names_a_file(ref: str) -> bool:
    """Whether ``ref`` can only be a file name: run ids are ``20261124T031500Z-1a2b3c``,
    never with a path separator or a ``.json`` suffix."""
    return "/" in ref or "\\" in ref or ref.lower().endswith(".json")


def snapshot(
    ctx: typer.Context,
    inventory: InventoryArgument,
    output: Annotated[
        Path,
        typer.Option(
            "--output",
            "-o",
            metavar="FILE",
            parser=output_file,
            help="Where to write the snapshot (JSON).",
        ),
    ],
    policy: opt.PolicyFile = None,
    limit: opt.Limit = None,
    concurrency: opt.Concurrency = opt.CONCURRENCY,
    connect_timeout: opt.ConnectTimeout = opt.CONNECT_TIMEOUT_S,
    command_timeout: opt.CommandTimeout = opt.COMMAND_TIMEOUT_S,
    known_hosts: opt.KnownHosts = None,
    accept_new: opt.AcceptNew = False,
    ssh_config: opt.SshConfig = None,
    insecure: opt.Insecure = False,
    samples: opt.Samples = opt.SAMPLES,
    interval: opt.Interval = opt.INTERVAL_S,
    allow_unreachable: opt.AllowUnreachable = False,
    max_unreachable: opt.MaxUnreachable = None,
) -> None:
    """Audit INVENTORY like `fleetaudit run`, with the same collection options, and save the
    result for a later `fleetaudit diff before.json after.json` (pre-change/post-change
    review without a database; nothing is recorded in the history).

    Exit 0 when written (findings included); 2 on error, when a host could not be audited
    (unless --allow-unreachable, or --max-unreachable within its limit, and the host could
    not be reached; the file is written all the same) or when no host was audited at all.
    """
    # Taken first, so it holds exactly the parameters: all but the file go to run() as they
    # are, so an option added to both signatures cannot be forgotten here
    # (tests/cli/test_snapshot_options.py checks that run's collection options are all here).
    settings: dict[str, Any] = dict(locals())
    file = settings.pop("output")
    with user_errors():
        one_file(file)
    from fleetaudit.cli.run import run

    run(
        format=OutputFormat.JSON,
        output=[f"json={file}"],
        no_history=True,
        fail_on=None,  # findings are what a snapshot records, not a failure
        **settings,
    )
