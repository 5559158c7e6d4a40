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


def opened() -> None:
    """Give a process started with stderr closed (``2>&-``; Python then leaves
    ``sys.stderr`` None) a stderr on /dev/null, at descriptor 2: messages go nowhere, as
    the operator asked, instead of failing, and no file fleetaudit opens later takes
    descriptor 2, where a library's own messages would land in it."""
    if sys.stderr is not None:
        return
    devnull_at(2)
    sys.stderr = open(2, "w", encoding="utf-8", errors="backslashreplace", closefd=False)


def write_line(line: str) -> None:
    """Write ``line`` and a newline to stderr, now."""
    try:
        sys.stderr.write(line + "\n")
        sys.stderr.flush()
    except (OSError, ValueError):  # ValueError: sys.stderr was closed
        silence()


def silence() -> None:
    """Point descriptor 2 at /dev/null, after a write to it failed (here, or in a library
    that draws on the terminal)."""
    devnull_at(2)
    try:
        sys.stderr.flush()  # drop what is still buffered: it now goes to /dev/null
    except (OSError, ValueError):
        pass


def devnull_at(descriptor: int) -> None:
    """Point ``descriptor`` at /dev/null, open or closed before; if even that fails, there
    is nowhere left to write and nothing to do about it."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
    except OSError:
        return
    if devnull != descriptor:  # a closed descriptor 2 is the lowest free one: taken already
        try:
            os.dup2(devnull, descriptor)
        except OSError:
            pass
        finally:
            os.close(devnull)
