"""Command-line interface: the only package that imports typer and rich. Thin by design:
options → config → library call → formatter → exit code."""

from __future__ import annotations


def main() -> None:
    """Console-script entry point."""
    import sys

    from fleetaudit.cli.output import ClosedStdout
    from fleetaudit.stderr import opened, write_line

    if sys.stdout is None:  # started with stdout closed (`>&-`): Python leaves None there
        sys.stdout = ClosedStdout()
    opened()  # started with stderr closed (`2>&-`): messages go to /dev/null
    from fleetaudit.cli.app import app

    try:
        app()
    except OSError as exc:
        if not isinstance(sys.stdout, ClosedStdout):
            raise
        # typer printing --help or --version: exit 2 with one line, not a traceback and 1
        # (which means "findings"); the commands' own output says so on its own
        write_line(f"fleetaudit: error: cannot write to stdout: {exc.strerror or exc}")
        sys.exit(2)
