"""Command-line interface: the only package that imports typer and rich. Thin by design:
options → config → library call → formatter → exit code."""

from __future__ import annotations


def main() -> None:
    """Console-script entry point."""
    from fleetaudit.cli.app import app

    app()
