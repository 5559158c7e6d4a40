"""``fleetaudit check``: judge saved captures against a policy, without SSH."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from fleetaudit.cli.console import say
from fleetaudit.cli.errors import user_errors
from fleetaudit.cli.finish import finish
from fleetaudit.cli.options import FailOn, Format, Output, PolicyFile
from fleetaudit.cli.overwrite import loaded_inputs
from fleetaudit.cli.policy_source import load_judging_policy
from fleetaudit.cli.reports import check_reports, refuse_reports_over
from fleetaudit.model.enums import Severity
from fleetaudit.report import OutputFormat


def check(
    captures: Annotated[
        list[Path],
        typer.Argument(
            help="Saved output of ss, netstat or /proc/net (or of the collection script), "
            "taken with -a (ss -tuanpe): a listing without any listener is a finding, one "
            "without any socket is refused. The host is the file name up to its first dot "
            "(db1.ss.txt -> db1); with --inventory, the longest inventory host name the file "
            "name starts with, followed by '.', '-' or '_' (db3.example.com.ss.txt -> "
            "db3.example.com, db3-ss.txt -> db3).",
            metavar="CAPTURE",  # typer adds the "..." of a list itself
        ),
    ],
    policy: PolicyFile = None,
    host: Annotated[
        str | None,
        typer.Option(
            metavar="NAME",
            help="Host name for a single capture (instead of the file name); needed for '-' "
            "(the capture read from stdin).",
        ),
    ] = None,
    group: Annotated[
        list[str] | None,
        typer.Option(
            metavar="GROUP",
            help="Group of the captured hosts, for rules that select groups (repeatable; "
            "not with --inventory). A group no rule or waiver of the policy names is a "
            "warning on stderr, with the groups it names.",
        ),
    ] = None,
    inventory: Annotated[
        Path | None,
        typer.Option(
            help="Take each host's groups and labels from this inventory. Every capture's "
            "host (from --host or the file name) must be in it: a name it lacks is an error "
            "(exit 2), never a host without groups.",
            dir_okay=False,
        ),
    ] = None,
    privileged: Annotated[
        bool,
        typer.Option(
            help="The captures were taken as root (sudo): a socket without a process really "
            "has none. Without it such sockets are owner-unknown, as for an unprivileged run."
        ),
    ] = False,
    wide: Annotated[
        bool,
        typer.Option(
            help="netstat captures were taken with -W, so no address was cut (see "
            "`fleetaudit parse --help`)."
        ),
    ] = False,
    format: Format = OutputFormat.TABLE,
    output: Output = None,
    fail_on: FailOn = Severity.HIGH,
) -> None:
    """Judge saved socket listings against a policy, as `run` would judge live hosts.

    For pre-change review of a listing pasted into a ticket, and for testing policies.
    Exit codes as for `run`: 0 clean, 1 findings at or above --fail-on, 2 error.
    """
    with user_errors():
        reads = [*(("capture", path) for path in captures), ("policy", policy),
                 ("inventory", inventory)]  # fmt: skip
        check_reports(format, output, reads)  # a bad -o fails before the work
        from fleetaudit.auditor import Auditor
        from fleetaudit.captures import load_captures, replay_transport, unnamed_group_warnings
        from fleetaudit.config import AuditConfig
        from fleetaudit.inventory import load_inventory_names
        from fleetaudit.model.enums import HostKeyPolicy

        hosts_inventory = load_inventory_names(inventory) if inventory is not None else None
        saved = load_captures(
            captures,
            host=host,
            groups=group or [],
            inventory=hosts_inventory,
            privileged=privileged,
            wide=wide,
        )
        rules = load_judging_policy(policy)
        refuse_reports_over(format, output, loaded_inputs(hosts_inventory, rules))
        for warning in unnamed_group_warnings(group or [], rules):
            say(warning)
        # No SSH: the report says so rather than "strict" (replay hosts have no key).
        no_ssh = AuditConfig(host_key_policy=HostKeyPolicy.NOT_APPLICABLE)
        auditor = Auditor(no_ssh, transport=replay_transport(saved))
        result = auditor.run([c.host for c in saved], rules)
        # saved captures are no audit of a fleet: the metrics' last full success is not now
        finish(result, format, output, fail_on, allow_unreachable=False, whole_fleet=False)
