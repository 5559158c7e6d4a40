"""Command-line interface: the only package that imports typer and rich. Thin by design:
options → config → library call → formatter → exit code."""

from __future__ import annotations


def main() -> None:
    """Console-script entry point."""
    import sys

    if sys.stdout is None:  # started with stdout closed (`>&-`): Python leaves None there
        from fleetaudit.cli.output import ClosedStdout

        sys.stdout = ClosedStdout()
    from fleetaudit.stderr import opened

    opened()  # started with stderr closed (`2>&-`): messages go to /dev/null
    from fleetaudit.cli.app import app

    app()
