"""Command-line options that several commands share, each defined once.

``run`` and ``snapshot`` collect the same way, so they take the same collection options:
defining an option here (name, help, validation, environment variable, default) and
annotating both commands' parameters with the alias keeps them from drifting apart. A
default lives in a constant because typer reads it from the function signature, where an
``Annotated`` alias cannot carry it.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from fleetaudit.cli.output import OUTPUT_ENVVAR
from fleetaudit.model.enums import HostStatus, Severity
from fleetaudit.report import OutputFormat

# Defaults of the collection options (the same as AuditConfig's, which the library uses).
CONCURRENCY = 100
MAX_CONCURRENCY = 10_000
"""AuditConfig's bound: checked here too, so a larger --concurrency is a usage error."""
CONNECT_TIMEOUT_S = 10.0
COMMAND_TIMEOUT_S = 60.0
SAMPLES = 1
INTERVAL_S = 5.0


def given_on_command_line(ctx: typer.Context, parameter: str) -> bool:
    """Whether ``parameter`` was typed on the command line, not taken from the environment
    or its default; false when the command has no such option (``run`` called by
    ``snapshot``). The source is compared by name: typer vendors its own click."""
    if parameter not in {p.name for p in ctx.command.params}:
        return False
    source = ctx.get_parameter_source(parameter)
    return source is not None and source.name == "COMMANDLINE"


def _not_empty_in_environment(envvar: str) -> Callable[..., Any]:
    """An option callback refusing ``envvar`` set to nothing when the option is not given:
    click takes an empty variable as unset, so a cron line whose ``$DB`` was unset recorded
    the night in the default database (QA)."""

    def check(ctx: typer.Context, param: typer.CallbackParam, value: Any) -> Any:
        given = given_on_command_line(ctx, param.name or "")
        if not given and envvar in os.environ and not os.environ[envvar].strip():
            raise typer.BadParameter(
                f"{envvar} is set but empty: give it a value, or unset it (an empty one "
                "would quietly mean the default)"
            )
        return value

    return check


# --- reports and policy -------------------------------------------------------------------

_FAIL_ON = typer.Option(
    "--fail-on",
    envvar="FLEETAUDIT_FAIL_ON",
    callback=_not_empty_in_environment("FLEETAUDIT_FAIL_ON"),
    help="Exit 1 when a finding is at or above this severity.",
    case_sensitive=False,
)
FailOn = Annotated[Severity, _FAIL_ON]
RunFailOn = Annotated[Severity | None, _FAIL_ON]
"""As :data:`FailOn`; None (only from Python: `snapshot`) keeps findings out of the exit code."""
Format = Annotated[
    OutputFormat,
    typer.Option(
        "--format",
        "-f",
        envvar="FLEETAUDIT_FORMAT",
        callback=_not_empty_in_environment("FLEETAUDIT_FORMAT"),
        help="Report format.",
        case_sensitive=False,
    ),
]
Output = Annotated[
    list[str] | None,
    typer.Option(
        "--output",
        "-o",
        metavar="[FORMAT=]FILE",
        help="Write the report to FILE (atomically) instead of stdout, in --format or in "
        "FORMAT; repeatable, e.g. -o json=run.json -o prom=/var/lib/node_exporter/fa.prom "
        "-o sarif=fa.sarif. '-' is stdout. A device or FIFO is written in place; a symlink "
        f"keeps pointing at the replaced file. [env var: {OUTPUT_ENVVAR}, one target, "
        "never split, so spaces are part of the path]",
    ),
]
MAX_KEEP_DAYS = 36_500
"""--keep-days bound (a century): more would overflow the date arithmetic of pruning."""
MAX_HISTORY_LIMIT = 1_000_000
"""`history --limit` bound: SQLite's LIMIT is a 64-bit integer; no history holds more."""

KeepDays = Annotated[
    int | None,
    typer.Option(
        min=1,
        max=MAX_KEEP_DAYS,
        metavar="DAYS",
        help="After recording, delete runs older than this many days.",
    ),
]


def _database_file(value: str) -> Path:
    """``--db``'s file; one ending in ``/`` names a directory, which ``Path`` would turn into
    a file of that name, a new history made where the directory was meant."""
    if value.endswith("/"):
        raise typer.BadParameter(f"{value!r} names a directory; give the database file in it")
    return Path(value)


def output_file(value: str) -> Path:
    """A single-file ``--output``; an empty one (an unset variable in a cron line) is
    refused, where ``Path`` would read it as ``.`` and the error would name a directory."""
    if not value:
        raise typer.BadParameter("'' names no file; '-' writes to stdout")
    return Path(value)


Database = Annotated[
    Path | None,
    typer.Option(
        "--db",
        parser=_database_file,
        metavar="FILE",
        envvar="FLEETAUDIT_DB",
        callback=_not_empty_in_environment("FLEETAUDIT_DB"),
        help="History database [default: $XDG_STATE_HOME/fleetaudit/history.sqlite].",
        dir_okay=False,
    ),
]
PolicyFile = Annotated[
    Path | None,
    typer.Option(
        "--policy",
        "-p",
        envvar="FLEETAUDIT_POLICY",
        callback=_not_empty_in_environment("FLEETAUDIT_POLICY"),
        help="Policy file [default: the built-in policy, a copy of policies/default.yaml].",
        dir_okay=False,
    ),
]
_NOT_REACHED = ", ".join(status.value for status in HostStatus if status.unreachable)
AllowUnreachable = Annotated[
    bool,
    typer.Option(
        help=f"Hosts that could not be reached (status {_NOT_REACHED}) do not by themselves "
        "make exit 2. Every other failure still does: an unknown or changed host key, a "
        "refused key, an SSH error, a failed or unreadable listing.",
    ),
]
"""Shared by ``run``, ``snapshot`` and ``merge``; the statuses come from
:attr:`HostStatus.unreachable`, so the help cannot drift from the rule."""
MaxUnreachable = Annotated[
    str | None,
    typer.Option(
        metavar="N|N%",
        help="Like --allow-unreachable, but for at most N hosts (or N% of the run's hosts, "
        "rounded down): more hosts not reached is exit 2, as when an outage cut the audit "
        "off from part of the fleet. For a large fleet where a few hosts are always down. "
        "With --allow-unreachable as well, the limit applies.",
    ),
]
"""Parsed by :meth:`fleetaudit.verdict.UnreachableLimit.parse` before the audit starts."""

# --- collection: which hosts, how to connect, how long to wait -----------------------------

Limit = Annotated[
    list[str] | None,
    typer.Option(
        "--limit",
        "-l",
        metavar="PATTERN",
        help="Only hosts or groups matching this glob (repeatable, or separated by ',' or "
        "':' as in Ansible); '!glob' excludes, '&glob' keeps only hosts also in it "
        "('web:&prod:!web3'). A pattern that matches nothing is an error.",
    ),
]
Concurrency = Annotated[
    int,
    typer.Option(
        envvar="FLEETAUDIT_CONCURRENCY",
        callback=_not_empty_in_environment("FLEETAUDIT_CONCURRENCY"),
        min=1,
        max=MAX_CONCURRENCY,
        metavar="N",
        help="Hosts audited at once.",
    ),
]


def seconds(minimum: float, maximum: float | None = None) -> Callable[[float], float]:
    """A callback refusing anything but a finite number of at least ``minimum`` (and at
    most ``maximum``).

    typer's own ``min=`` lets ``inf`` through (every host then failed at once, as
    ``timeout``, before any was contacted) and answers ``nan`` with "Input should be
    greater than or equal to 0.1"; this names the value and what is wanted."""
    wanted = f"at least {minimum:g}" if maximum is None else f"from {minimum:g} to {maximum:g}"

    def check(value: float) -> float:
        too_big = maximum is not None and value > maximum
        if not math.isfinite(value) or value < minimum or too_big:
            raise typer.BadParameter(f"{value:g} is not a number {wanted}")
        return value

    return check


ConnectTimeout = Annotated[
    float,
    typer.Option(
        callback=seconds(0.1),
        metavar="SECONDS",
        help="Time allowed for TCP connect, SSH handshake and login together (at least 0.1).",
    ),
]
CommandTimeout = Annotated[
    float,
    typer.Option(
        callback=seconds(0.1),
        metavar="SECONDS",
        help="Time allowed for the socket listing on each host (at least 0.1).",
    ),
]
KnownHosts = Annotated[
    list[Path] | None,
    typer.Option(
        metavar="FILE",
        help="known_hosts file to trust (repeatable) [default: ~/.ssh/known_hosts].",
    ),
]
AcceptNew = Annotated[
    bool,
    typer.Option(
        "--accept-new",
        help="Trust unknown host keys on first use, recording them in fleetaudit's own "
        "known_hosts file; changed keys are still refused.",
    ),
]
SshConfig = Annotated[
    Path | None,
    typer.Option(
        metavar="FILE",
        help="OpenSSH client config to honour instead of ~/.ssh/config (Host, HostName, "
        "User, Port, IdentityFile, ProxyJump...); inventory values win over it.",
        dir_okay=False,
    ),
]
Insecure = Annotated[
    bool,
    typer.Option(
        "--insecure-no-host-key-check",
        help="Do not verify host keys at all. Every report says so. Never in production.",
    ),
]
Samples = Annotated[
    int,
    typer.Option(
        min=1,
        max=100,
        metavar="N",
        help="List each host's sockets N times over one connection; backlog and queue "
        "rules then flag only what persists in every sample, and backlog findings show "
        "how much the kernel's ListenOverflows/ListenDrops counters grew.",
    ),
]
Interval = Annotated[
    float,
    typer.Option(callback=seconds(0), metavar="SECONDS", help="Time between samples (at least 0)."),
]
