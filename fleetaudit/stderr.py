"""Lines for the operator on stderr, which must never fail the run.

stderr goes away under fleetaudit's feet: the terminal is closed (EIO, with the SIGHUP that
stops the run), or the reader of ``2>&1 | tee`` is killed by the same Ctrl-C (EPIPE). A
message that cannot be written is lost either way; raising there would instead fail
whatever the process was doing, such as writing a report, and change its exit code. So a
failed write points descriptor 2 at /dev/null, and every later line, and Python's own
flush at exit, goes there quietly.
"""

from __future__ import annotations

import os
import sys


def write_line(line: str) -> None:
    """Write ``line`` and a newline to stderr, now."""
    try:
        sys.stderr.write(line + "\n")
        sys.stderr.flush()
    except (OSError, ValueError):  # ValueError: sys.stderr was closed
        _silence()


def _silence() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 2)
        os.close(devnull)
    except OSError:
        pass  # nowhere left to say anything, and nothing to do about it
    try:
        sys.stderr.flush()  # drop what is still buffered: it now goes to /dev/null
    except (OSError, ValueError):
        pass
