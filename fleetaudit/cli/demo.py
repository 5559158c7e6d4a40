"""``fleetaudit demo``: audit a simulated fleet through the real SSH code path."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from fleetaudit.cli.console import say
from fleetaudit.cli.errors import user_errors
from fleetaudit.cli.options import FailOn, Format, Output
from fleetaudit.cli.reports import check_reports, write_reports
from fleetaudit.model.enums import Severity
from fleetaudit.report import OutputFormat


def demo(
    format: Format = OutputFormat.TABLE,
    output: Output = None,
    fail_on: FailOn = Severity.HIGH,
    policy: Annotated[
        Path | None, typer.Option("--policy", "-p", help="Judge the demo fleet with this policy.")
    ] = None,
) -> None:
    """Start a few simulated SSH hosts on 127.0.0.x inside this process and audit them.

    The hosts have their own host keys and answer like real machines (one with mysqld on
    0.0.0.0:3306, one with a backlogged listener, one with only netstat, one where sudo is
    refused, one that refuses connections). Nothing leaves this machine and nothing needs
    configuring. Exits 0 when the demo ran; the exit code a real run would have given is
    printed on stderr.
    """
    with user_errors():
        from fleetaudit.cli.policy_source import load_judging_policy
        from fleetaudit.lab.demo import run_demo
        from fleetaudit.verdict import verdict

        check_reports(format, output)  # a bad -o fails before the work
        result = run_demo(load_judging_policy(policy))
        write_reports(result, format, output)
        code = verdict(result, fail_on)
        say(
            f"demo: {len(result.snapshots)} simulated hosts, "
            f"{len(result.active_findings)} findings; "
            f"`fleetaudit run` would have exited {int(code)} "
            f"(1 = findings at or above {fail_on.value}, 2 = hosts not audited)"
        )
