"""The one place where exceptions become messages and exit codes."""

from __future__ import annotations

import os
import traceback
from collections.abc import Iterator
from contextlib import contextmanager

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
    except Exception as exc:
        if _is_cli_control_flow(exc):
            raise
        if os.environ.get("FLEETAUDIT_DEBUG"):
            traceback.print_exc()
        error(
            f"internal error: {type(exc).__name__}: {exc} "
            "(this is a bug; set FLEETAUDIT_DEBUG=1 for a traceback and report it)"
        )
        raise typer.Exit(ExitCode.ERROR) from None


def _is_cli_control_flow(exc: Exception) -> bool:
    """Exit, Abort and usage errors belong to typer (which vendors click in recent releases
    and imports it in older ones), so they are recognised by module, not by class."""
    module = type(exc).__module__
    return isinstance(exc, typer.Exit | typer.Abort) or module.startswith(("click", "typer"))
