"""``fleetaudit run``: audit the hosts of an inventory and report."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from fleetaudit.cli import options as opt
from fleetaudit.cli.console import HostProgress, inventory_warnings, say
from fleetaudit.cli.errors import user_errors
from fleetaudit.cli.finish import finish
from fleetaudit.cli.inventory import InventoryArgument
from fleetaudit.cli.options import Database, Format, Output, PolicyFile
from fleetaudit.cli.overwrite import loaded_inputs, run_inputs
from fleetaudit.cli.policy_source import load_judging_policy
from fleetaudit.cli.recording import check_history, forget_old_runs, last_success_in, recorder
from fleetaudit.cli.reports import check_reports, refuse_reports_over
from fleetaudit.model.enums import HostKeyPolicy, Severity
from fleetaudit.report import OutputFormat

if TYPE_CHECKING:
    from fleetaudit.history.coverage import Coverage
    from fleetaudit.inventory import Host, Inventory
    from fleetaudit.model.run import ShardInfo
    from fleetaudit.verdict import UnreachableLimit


def run(
    ctx: typer.Context,
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
        _unused_options(
            no_history, keep_days, opt.given_on_command_line(ctx, "db"), insecure, known_hosts
        )
        from fleetaudit.auditor import Auditor
        from fleetaudit.config import AuditConfig
        from fleetaudit.inventory import load_inventory, select_hosts

        reads = run_inputs(inventory, policy, db, recording=not no_history,
                           known_hosts=known_hosts, ssh_config=ssh_config)  # fmt: skip
        check_reports(format, output, reads)  # a bad -o must fail now, not after the audit
        most_unreached = unreachable_limit(max_unreachable)
        fleet = load_inventory(inventory, refuse_later=True)  # --limit may leave some out
        inventory_warnings(fleet)
        hosts = select_hosts(fleet, limit or [])
        shard_of_run = None
        if shard is not None:
            shard_of_run, hosts = _shard_of(shard, inventory, fleet, hosts)
        rules = load_judging_policy(policy)
        refuse_reports_over(format, output, loaded_inputs(fleet, rules))
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


def _unused_options(
    no_history: bool,
    keep_days: int | None,
    db_given: bool,
    insecure: bool,
    known_hosts: list[Path] | None,
) -> None:
    """Refuse, or say, an option the others make pointless: accepted in silence, it lets the
    user believe it took effect (QA: `--db night.sqlite --no-history` recorded nothing, and
    said nothing). A deletion that cannot happen is refused; a file that will not be used
    is a warning, as a wrapper script may always pass it."""
    if no_history and keep_days is not None:
        raise typer.BadParameter(
            "--keep-days deletes old runs from the history, which --no-history does not "
            "use: choose one"
        )
    # FLEETAUDIT_DB set for every run is no reason to warn of a one-off --no-history
    if no_history and db_given:
        say("warning: --no-history: this run is not recorded in the --db given")
    if insecure and known_hosts:
        say(
            "warning: --insecure-no-host-key-check checks no host key: the --known-hosts "
            "file is not read"
        )


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


def _host_key_policy(accept_new: bool, insecure: bool) -> HostKeyPolicy:
    if insecure:
        return HostKeyPolicy.INSECURE
    return HostKeyPolicy.ACCEPT_NEW if accept_new else HostKeyPolicy.STRICT
