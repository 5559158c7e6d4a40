"""``fleetaudit history``, ``fleetaudit diff`` and ``fleetaudit snapshot``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from tabulate import tabulate

from fleetaudit.cli.errors import user_errors
from fleetaudit.cli.output import write_report
from fleetaudit.cli.run import Database, PolicyFile
from fleetaudit.history.render import DiffFormat
from fleetaudit.report import OutputFormat

if TYPE_CHECKING:
    from fleetaudit.model.run import RunResult


def history(
    db: Database = None,
    limit: Annotated[int, typer.Option(min=1, help="How many runs to list.")] = 20,
) -> None:
    """List the stored runs, newest first."""
    with user_errors():
        from fleetaudit.history import HistoryStore, default_db_path

        with HistoryStore.open_read_only(db or default_db_path()) as store:
            rows = store.runs(limit)
        table = [
            (r.id, r.started_at[:19], r.policy, r.hosts, r.hosts_failed, r.findings, r.exit_code)
            for r in rows
        ]
        headers = ("run", "started (UTC)", "policy", "hosts", "failed", "findings", "exit")
        print(tabulate(table, headers=headers, disable_numparse=True) if rows else "no runs yet")


def diff(
    before: Annotated[
        str | None,
        typer.Argument(
            help="A run id (or unique prefix) from the history, or a snapshot/JSON file."
        ),
    ] = None,
    after: Annotated[str | None, typer.Argument(help="Likewise; default: the latest run.")] = None,
    db: Database = None,
    format: Annotated[DiffFormat, typer.Option("--format", "-f")] = DiffFormat.TABLE,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here instead of stdout.")
    ] = None,
) -> None:
    """What changed between two runs: new and resolved findings, new and removed listeners,
    hosts whose status changed. Without arguments: the last two runs in the history.

    Exit 0 when nothing changed, 1 when something did (for scripts), 2 on error.
    """
    with user_errors():
        from fleetaudit.history import diff_runs
        from fleetaudit.history.render import render_diff

        old, new = _two_runs(before, after, db)
        changes = diff_runs(old, new)
        write_report(render_diff(changes, format), output)
    raise typer.Exit(0 if changes.empty else 1)


def _two_runs(
    before: str | None, after: str | None, db: Path | None
) -> tuple[RunResult, RunResult]:
    """The two runs to compare: files are read as files, anything else is a run id in the
    history, which is opened (read-only) only when an id or a default needs it."""
    from fleetaudit.errors import HistoryError, InputError
    from fleetaudit.history import HistoryStore, default_db_path, load_run_file

    for ref in (before, after):
        if ref is not None and _names_a_file(ref) and not Path(ref).is_file():
            raise InputError("no such file (a run id has no '/' and no '.json')", path=ref)
    needs_store = any(ref is None or not Path(ref).is_file() for ref in (before, after))
    store = HistoryStore.open_read_only(db or default_db_path()) if needs_store else None
    try:
        if before is None and after is None:
            rows = store.runs(2) if store else []
            if len(rows) < 2:
                raise HistoryError(
                    "the history holds fewer than two runs; give two runs to compare"
                )
            before, after = rows[1].id, rows[0].id
        elif after is None:
            rows = store.runs(1) if store else []
            if not rows:
                raise HistoryError("the history is empty; give two runs to compare")
            after = rows[0].id

        def load(ref: str) -> RunResult:
            if Path(ref).is_file():
                return load_run_file(Path(ref))
            assert store is not None
            return store.load(ref)

        return load(str(before)), load(after)
    finally:
        if store is not None:
            store.close()


def _names_a_file(ref: str) -> bool:
    """Whether ``ref`` can only be a file name: run ids are ``20261124T031500Z-1a2b3c``,
    never with a path separator or a ``.json`` suffix."""
    return "/" in ref or "\\" in ref or ref.lower().endswith(".json")


def snapshot(
    inventory: Annotated[Path, typer.Argument(help="Inventory file.")],
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Where to write the snapshot (JSON).")
    ],
    policy: PolicyFile = None,
    limit: Annotated[
        list[str] | None, typer.Option("--limit", "-l", metavar="PATTERN", help="As for `run`.")
    ] = None,
    known_hosts: Annotated[
        list[Path] | None, typer.Option(metavar="FILE", help="As for `run`.")
    ] = None,
    accept_new: Annotated[bool, typer.Option("--accept-new", help="As for `run`.")] = False,
    ssh_config: Annotated[
        Path | None, typer.Option(metavar="FILE", help="As for `run`.", dir_okay=False)
    ] = None,
) -> None:
    """Audit INVENTORY and save the result for a later `fleetaudit diff before.json after.json`
    (pre-change/post-change review without a database). Exit 0 when written (findings
    included), 2 on error or when hosts could not be audited."""
    from fleetaudit.cli.run import run

    run(
        inventory,
        policy=policy,
        format=OutputFormat.JSON,
        output=[f"json={output}"],
        limit=limit,
        known_hosts=known_hosts,
        accept_new=accept_new,
        ssh_config=ssh_config,
        no_history=True,
        fail_on=None,  # findings are what a snapshot records, not a failure
    )
