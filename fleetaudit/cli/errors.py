"""The one place where exceptions become messages and exit codes."""

from __future__ import annotations

import os
import signal
import sys
import traceback
from collections.abc import Iterator
from contextlib import contextmanager

import typer

from fleetaudit.cli.console import error, say
from fleetaudit.errors import ExitCode, FleetAuditError, InputError
from fleetaudit.stderr import devnull_at

INTERRUPTED = 130
"""Exit code after Ctrl-C or SIGTERM (128 + SIGINT), as shells report it."""

BROKEN_PIPE = 128 + int(signal.SIGPIPE)
"""Exit code when the reader of stdout went away (``| head``): 141, what a shell reports
for a program killed by SIGPIPE, and not 1, which means "findings"."""


class StdoutError(FleetAuditError):
    """Standard output cannot be written: a full disk, a closed pipe, an I/O error."""

    def __init__(self, cause: OSError) -> None:
        self.cause = cause
        super().__init__(f"cannot write to stdout: {cause.strerror or cause}")


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn fleetaudit's own errors into one clear line and exit code 2, an interrupt into
    exit 130, a closed stdout pipe into a quiet exit 141, and anything unexpected into exit 2
    with a bug-report hint (never exit 1, which means "findings")."""
    try:
        yield
    except StdoutError as exc:
        silence_stdout()
        if not isinstance(exc.cause, BrokenPipeError):
            error(str(exc))
        raise typer.Exit(failure_code(exc)) from None
    except FleetAuditError as exc:
        error(str(exc))
        more_problems(exc)
        raise typer.Exit(ExitCode.ERROR) from None
    except KeyboardInterrupt:
        say("interrupted; no report written")
        raise typer.Exit(INTERRUPTED) from None
    except BrokenPipeError:
        # Only stdout is a pipe fleetaudit writes to outside write_report (print() in the
        # listing commands); its reader has gone, which is not an error worth a word.
        silence_stdout()
        raise typer.Exit(BROKEN_PIPE) from None
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


PROBLEMS_SHOWN = 20
"""Further problems of one file named one by one; the rest are counted (a wrong file, such
as a report given as a policy, has hundreds)."""


def more_problems(exc: FleetAuditError) -> None:
    """The further problems an input error carries, one line each, after its own."""
    also = exc.also if isinstance(exc, InputError) else ()
    for problem in also[:PROBLEMS_SHOWN]:
        error(str(problem))
    if len(also) > PROBLEMS_SHOWN:
        error(f"and {len(also) - PROBLEMS_SHOWN} more problem(s) in the same file")


def failure_code(exc: BaseException) -> int:
    """The exit code :func:`user_errors` ends the process with for ``exc``, so that what is
    recorded (the history) is what the shell sees."""
    if isinstance(exc, StdoutError) and isinstance(exc.cause, BrokenPipeError):
        return BROKEN_PIPE
    if isinstance(exc, BrokenPipeError):
        return BROKEN_PIPE
    if isinstance(exc, KeyboardInterrupt):
        return INTERRUPTED
    if isinstance(exc, typer.Exit):
        return int(exc.exit_code)
    return int(ExitCode.ERROR)


def silence_stdout() -> None:
    """Point descriptor 1 at /dev/null: Python flushes stdout again at exit, and the data
    still buffered would fail a second time with an "Exception ignored" traceback."""
    try:
        descriptor = sys.stdout.fileno()
    except (OSError, ValueError):
        return  # stdout is not a real descriptor (a test runner): nothing is flushed at exit
    devnull_at(descriptor)


def _is_cli_control_flow(exc: Exception) -> bool:
    """Exit, Abort and usage errors belong to typer (which vendors click in recent releases
    and imports it in older ones), so they are recognised by module, not by class."""
    module = type(exc).__module__
    return isinstance(exc, typer.Exit | typer.Abort) or module.startswith(("click", "typer"))
