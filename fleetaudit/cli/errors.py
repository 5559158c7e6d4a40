"""The one place where exceptions become messages and exit codes."""

from __future__ import annotations

import os
import traceback
from collections.abc import Iterator
from contextlib import contextmanager

import click
import typer

from fleetaudit.cli.console import error, say
from fleetaudit.errors import ExitCode, FleetAuditError

INTERRUPTED = 130
"""Exit code after Ctrl-C or SIGTERM (128 + SIGINT), as shells report it."""


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn fleetaudit's own errors into one clear line and exit code 2, an interrupt into
    exit 130, and anything unexpected into exit 2 with a bug-report hint (never exit 1,
    which means "findings")."""
    try:
        yield
    except FleetAuditError as exc:
        error(str(exc))
        raise typer.Exit(ExitCode.ERROR) from None
    except KeyboardInterrupt:
        say("interrupted; no report written")
        raise typer.Exit(INTERRUPTED) from None
    except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
        raise
    except Exception as exc:
        if os.environ.get("FLEETAUDIT_DEBUG"):
            traceback.print_exc()
        error(
            f"internal error: {type(exc).__name__}: {exc} "
            "(this is a bug; set FLEETAUDIT_DEBUG=1 for a traceback and report it)"
        )
        raise typer.Exit(ExitCode.ERROR) from None
