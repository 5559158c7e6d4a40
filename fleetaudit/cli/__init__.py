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
    if not sys.warnoptions:  # the user's own -W / PYTHONWARNINGS are kept
        _quiet_library_warnings()
    _say_an_early_sigterm()
    from fleetaudit.cli.app import app
    from fleetaudit.cli.errors import BROKEN_PIPE, silence_stdout

    try:
        try:
            app()
        finally:
            sys.stdout.flush()  # what --version printed: a failure here is said below
    except SystemExit as exc:
        # typer answers a broken pipe under --help with exit 1 (which means "findings"),
        # wrapping stdout in click's PacifyFlushWrapper: the shell's 141 instead
        if exc.code == 1 and type(sys.stdout).__name__ == "PacifyFlushWrapper":
            sys.exit(BROKEN_PIPE)
        raise
    except OSError as exc:
        # typer printing --help or --version to a full disk, a closed or broken pipe: one
        # line and exit 2, or a quiet 141, as the commands' own output does; not a traceback
        # and exit 1 (which means "findings")
        silence_stdout()  # Python's flush at exit would fail on it again
        if isinstance(exc, BrokenPipeError):
            sys.exit(BROKEN_PIPE)
        write_line(f"fleetaudit: error: cannot write to stdout: {exc.strerror or exc}")
        sys.exit(2)


def _quiet_library_warnings() -> None:
    """Drop the warnings the SSH libraries raise while connecting (cryptography deprecating
    the finite-field Diffie-Hellman a server offers, asyncssh's own): they are addressed to
    those libraries' developers, can do nothing for the person running the audit, and under
    cron would add a dozen lines (with source lines) to the one-line summary."""
    import warnings

    warnings.filterwarnings("ignore", module=r"(asyncssh|cryptography)(\.|$)")


def _say_an_early_sigterm() -> None:
    """A SIGTERM before the audit takes over the signals (while the inventory and policy
    load: a pod stopped at once) ends the process as before, by that signal, but with a
    line saying so: by default it died without a word, its report not written, which a
    cron log or a pod's log could not tell from a hang. Left alone when SIGTERM is ignored
    or handled already (by whoever started us)."""
    import signal

    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _stopped_early)


def _stopped_early(number: int, frame: object) -> None:
    import signal

    from fleetaudit.signals import stop_at_once

    stop_at_once(signal.Signals(number), "before the audit started")
