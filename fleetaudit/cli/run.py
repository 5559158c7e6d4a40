"""``fleetaudit run``: audit the hosts of an inventory and report."""

from __future__ import annotations

import signal
from collections.abc import Callable, Sequence
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from fleetaudit.cli import options as opt
from fleetaudit.cli.console import (
    HostProgress,
    error,
    inventory_warnings,
    not_audited_lines,
    say,
)
from fleetaudit.cli.errors import (
    BROKEN_PIPE,
    StdoutError,
    failure_code,
    silence_stdout,
    user_errors,
)
from fleetaudit.cli.inventory import InventoryArgument
from fleetaudit.cli.options import Database, Format, Output, PolicyFile
from fleetaudit.cli.policy_source import load_judging_policy
from fleetaudit.cli.recording import check_history, forget_old_runs, last_success_in, recorder
from fleetaudit.cli.reports import RunFacts, check_reports, report_targets, write_reports
from fleetaudit.errors import ExitCode, FleetAuditError
from fleetaudit.model.enums import HostKeyPolicy, Severity
from fleetaudit.report import OutputFormat

if TYPE_CHECKING:
    from fleetaudit.history.coverage import Coverage
    from fleetaudit.inventory import Host, Inventory
    from fleetaudit.model.run import RunResult, ShardInfo
    from fleetaudit.verdict import UnreachableLimit


def run(
    inventory: InventoryArgument,
    policy: PolicyFile = None,
    format: Format = OutputFormat.TABLE,
    output: Output = None,
    limit: opt.Limit = None,
    concurrency: opt.Concurrency = opt.CONCURRENCY,
    connect_timeout: opt.ConnectTimeout = opt.CONNECT_TIMEOUT_S,
    command_timeout: opt.CommandTimeout = opt.COMMAND_TIMEOUT_S,
    fail_on: opt.RunFailOn = Severity.HIGH,
    known_hosts: opt.KnownHosts = None,
    accept_new: opt.AcceptNew = False,
    ssh_config: opt.SshConfig = None,
    insecure: opt.Insecure = False,
    samples: opt.Samples = opt.SAMPLES,
    interval: opt.Interval = opt.INTERVAL_S,
    allow_unreachable: opt.AllowUnreachable = False,
    max_unreachable: opt.MaxUnreachable = None,
    shard: Annotated[
        str | None,
        typer.Option(
            metavar="K/N",
            help="Audit only shard K of N (a stable hash of the host name); merge the N "
            "JSON reports with `fleetaudit merge`.",
        ),
    ] = None,
    db: Database = None,
    no_history: Annotated[
        bool, typer.Option("--no-history", help="Do not record this run in the history.")
    ] = False,
    keep_days: opt.KeepDays = None,
) -> None:
    """Audit every host of INVENTORY over SSH and report listeners that break the policy.

    Every run is recorded in the history database (see `fleetaudit history` and
    `fleetaudit diff`) unless --no-history is given.

    Exit codes: 0 clean (also a --shard that holds no host: merge judges the fleet); 1
    findings at or above --fail-on; 2 error: bad input, a host that could not be audited
    (unless --allow-unreachable, or --max-unreachable within its limit, and the host could
    not be reached: a changed host key or a refused key is exit 2 even then), or no host
    audited at all (even with those options); 130 (SIGINT), 143 (SIGTERM) or 129
    (SIGHUP, unless started under nohup): stopped early, with a partial report and history
    record written (hosts not finished have status "interrupted"). A second signal stops
    at once. 141: stdout was a pipe whose reader went away.
    """
    with user_errors():
        if accept_new and insecure:
            raise typer.BadParameter("choose one of --accept-new and --insecure-no-host-key-check")
        if no_history and keep_days is not None:
            raise typer.BadParameter(
                "--keep-days deletes old runs from the history, which --no-history does not "
                "use: choose one"
            )
        from fleetaudit.auditor import Auditor
        from fleetaudit.config import AuditConfig
        from fleetaudit.inventory import load_inventory, select_hosts

        check_reports(format, output)  # a bad -o must fail now, not after the audit
        most_unreached = unreachable_limit(max_unreachable)
        fleet = load_inventory(inventory, refuse_later=True)  # --limit may leave some out
        inventory_warnings(fleet)
        hosts = select_hosts(fleet, limit or [])
        shard_of_run = None
        if shard is not None:
            shard_of_run, hosts = _shard_of(shard, inventory, fleet, hosts)
        rules = load_judging_policy(policy)
        covered = _coverage(inventory, fleet, hosts)
        last_success = None
        if not no_history:
            check_history(db)
            # Read before the audit: this run is not recorded yet.
            last_success = last_success_in(db, covered.inventory)
        config = AuditConfig(
            concurrency=concurrency,
            connect_timeout=connect_timeout,
            command_timeout=command_timeout,
            host_key_policy=_host_key_policy(accept_new, insecure),
            samples=samples,
            interval=interval,
            ssh_config=ssh_config,
            **({"known_hosts": tuple(known_hosts)} if known_hosts else {}),
        )
        progress = HostProgress(len(hosts))
        with progress.shown():
            auditor = Auditor(config, on_host=progress.host_done, stop_on_signals=True)
            result = auditor.run(hosts, rules)
        if shard_of_run is not None:
            result = result.model_copy(update={"shard": shard_of_run})
        record = None if no_history else recorder(result, db, covered, keep_days)
        retain = None
        if not no_history and keep_days is not None:
            retain = partial(forget_old_runs, db, keep_days, result.run_id)
        finish(
            result, format, output, fail_on, allow_unreachable,
            record=record, retain=retain, last_success=last_success,
            whole_fleet=covered.whole, max_unreachable=most_unreached,
        )  # fmt: skip


def _shard_of(
    shard: str, inventory: Path, fleet: Inventory, hosts: Sequence[Host]
) -> tuple[ShardInfo, tuple[Host, ...]]:
    """The shard ``K/N`` of the selected ``hosts``: what the report records of it, and its
    hosts. A shard that holds none (fewer hosts than shards) says so; its run exits 0 with
    an empty report for merge."""
    from fleetaudit.shards import empty_shard_message, parse_shard, select_shard, shard_info

    index, count = parse_shard(shard)
    whole = _coverage(inventory, fleet, hosts).whole  # --limit left none out
    # Of the selection before the split: what merge checks the shards against.
    recorded = shard_info(hosts, index, count, whole_inventory=whole)
    in_shard = select_shard(hosts, index, count)
    if not in_shard:
        say(empty_shard_message(index, count, len(hosts)))
    return recorded, in_shard


def _coverage(inventory: Path, fleet: Inventory, hosts: Sequence[Host]) -> Coverage:
    """Which inventory the run is of, and whether ``hosts`` (after --limit and --shard)
    are all of it: only such a run can count as auditing the whole fleet."""
    from fleetaudit.history.coverage import coverage_of

    # a host left out because it cannot be audited as written is still one of the fleet
    every = [h.name for h in fleet.hosts] + [r.name for r in fleet.refused]
    return coverage_of(inventory, every, (h.name for h in hosts))


def unreachable_limit(text: str | None) -> UnreachableLimit | None:
    """``--max-unreachable`` read (InputError when it cannot be), or None when not given."""
    from fleetaudit.verdict import UnreachableLimit

    return None if text is None else UnreachableLimit.parse(text)


def finish(
    result: RunResult,
    format: OutputFormat,
    output: list[str] | None,
    fail_on: Severity | None,
    allow_unreachable: bool,
    *,
    record: Callable[[int], None] | None = None,
    retain: Callable[[], None] | None = None,
    last_success: datetime | None = None,
    whole_fleet: bool = True,
    signalled: bool = True,
    max_unreachable: UnreachableLimit | None = None,
) -> None:
    """Write the reports, ``record`` the run with the exit code the process really ends
    with (2, not the verdict, when a report cannot be written), say on stderr which hosts
    were not audited (bounded, one line per status) and then one summary line, and exit
    with the verdict. The summary stays the last line: scripts read it with ``tail -n 1``.

    From here on a first signal is deferred and a second ends the process at once; the
    history record gets a few seconds after a signal, not the minutes another process may
    hold the database for (:class:`AfterTheAudit`).
    A run the history could not record is said before the summary, which names the hosts
    not audited as always, and exits 2.

    ``signalled`` is False when ``result.interrupted_by`` is not this process's own signal
    (``merge`` of a stopped shard): then the exit code is the verdict, whose interrupted
    hosts make it 2, not 128 + a signal this process never received."""
    from fleetaudit.signals import AfterTheAudit, ignore_stop_signals
    from fleetaudit.verdict import error_reason, verdict

    judged = verdict(
        result, fail_on, allow_unreachable=allow_unreachable, max_unreachable=max_unreachable
    )
    code = exit_code(result, judged) if signalled else int(judged)
    reason = error_reason(
        result, allow_unreachable=allow_unreachable, max_unreachable=max_unreachable
    )
    stopped_by = result.interrupted_by if signalled else None

    def last_words(status: int) -> None:  # a signal ends the process while it records
        for line in not_audited_lines(result.failed_hosts):
            say(line)
        say(_summary_line(result, fail_on, None, status) + ": this run was not recorded")

    with AfterTheAudit(stopped_by=stopped_by) as late:
        try:
            facts = RunFacts(int(code), last_success, whole_fleet)
            write_reports(result, format, output, facts)
        except BaseException as exc:
            if record is not None:
                late.recording(partial(record, failure_code(exc)), last_words)
            if not _said_with_the_summary(exc):
                raise
            code, record, retain = failure_code(exc), None, None  # recorded above
            unwritten = "a report could not be written"
            reason = f"{reason}; {unwritten}" if reason else unwritten
        if record is not None:
            try:
                late.recording(partial(record, code), last_words)
            except FleetAuditError as exc:
                error(str(exc))
                unrecorded = "the history could not record this run"
                code, reason = (
                    failure_code(exc),
                    f"{reason}; {unrecorded}" if reason else unrecorded,
                )
            else:
                if retain is not None:
                    late.retention(retain)
        if result.interrupted_by is not None:
            # a merge (not signalled) was not stopped itself: one of its shards was
            stopped = "interrupted" if signalled else "a shard was interrupted"
            say(f"{stopped} by {result.interrupted_by}: {_partial(format, output)}")
        for line in not_audited_lines(result.failed_hosts):
            say(line)
        say(_summary_line(result, fail_on, reason, code))
    ignore_stop_signals()  # said and recorded: a signal now must not change the exit status
    raise typer.Exit(int(code))


def _said_with_the_summary(exc: BaseException) -> bool:
    """Say a report that could not be written (a full disk, a directory gone), and go on to
    the hosts not audited and the summary line, which cron mails and scripts read: True.
    False for what ends the run as it stands: a reader of stdout that went away (a quiet
    141, as for every command), an interrupt, a bug."""
    if not isinstance(exc, FleetAuditError) or failure_code(exc) == BROKEN_PIPE:
        return False
    error(str(exc))
    if isinstance(exc, StdoutError):
        silence_stdout()  # Python's flush at exit would fail on it again
    return True


def _partial(format: OutputFormat, output: list[str] | None) -> str:
    """Which reports are partial: "the report above" is true only of stdout."""
    targets = [str(path or "stdout") for _, path in report_targets(format, output)]
    if targets == ["stdout"]:
        return "the report above is partial"
    if len(targets) == 1:
        return f"the report written to {targets[0]} is partial"
    return f"the reports written to {', '.join(targets)} are partial"


def _summary_line(
    result: RunResult, fail_on: Severity | None, reason: str | None, code: int
) -> str:
    """The one line cron mails: hosts, findings, exit code, and why an error is one."""
    from fleetaudit.report.summary import counted

    failed = len(result.failed_hosts)
    gate = (
        ""
        if fail_on is None
        else f", {len(result.findings_at_or_above(fail_on))} at or above {fail_on.value}"
    )
    why = f": {reason}" if reason is not None and code == ExitCode.ERROR else ""
    return (
        f"{counted(len(result.snapshots), 'host')}, {len(result.snapshots) - failed} audited, "
        f"{failed} not audited, {counted(len(result.active_findings), 'finding')}{gate}; "
        f"exit {int(code)}{why}"
    )


def exit_code(result: RunResult, verdict_code: int) -> int:
    """The verdict, or 128 + the signal number when the run was stopped by a signal (130 for
    SIGINT, 143 for SIGTERM), as shells report it."""
    if result.interrupted_by is None:
        return verdict_code
    return 128 + int(signal.Signals[result.interrupted_by])


def _host_key_policy(accept_new: bool, insecure: bool) -> HostKeyPolicy:
    if insecure:
        return HostKeyPolicy.INSECURE
    return HostKeyPolicy.ACCEPT_NEW if accept_new else HostKeyPolicy.STRICT
