"""The typer application: registers the commands; each lives in its own module."""

from __future__ import annotations

from typing import Annotated

import typer

from fleetaudit import __version__
from fleetaudit.cli.check import check
from fleetaudit.cli.demo import demo
from fleetaudit.cli.history import diff, history, snapshot
from fleetaudit.cli.inventory import inventory_app
from fleetaudit.cli.merge import merge
from fleetaudit.cli.parse import parse
from fleetaudit.cli.policy import policy_app
from fleetaudit.cli.run import run

app = typer.Typer(
    name="fleetaudit",
    help="Agentless audit of the network listeners of a Linux fleet, over SSH.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _show_version(value: bool) -> None:
    if value:
        print(f"fleetaudit {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_show_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Audit who listens where on every host, judge it against a policy, and exit
    0 (clean), 1 (findings at or above --fail-on) or 2 (error / hosts not audited)."""


app.command()(run)
app.command()(demo)
app.command()(parse)
app.command()(check)
app.add_typer(policy_app)
app.command()(history)
app.command()(diff)
app.command()(snapshot)
app.command()(merge)
app.add_typer(inventory_app)
