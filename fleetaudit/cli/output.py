"""Write a report to stdout or, atomically, to a file.

A report file is replaced in one step (temporary file in the same directory, fsync, rename)
so that cron jobs and dashboards never read half a report, and a failed run never truncates
the previous one.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path

from fleetaudit.errors import InputError


def write_report(text: str | Iterable[str], output: Path | None) -> None:
    """Write ``text`` (one string, or pieces) to ``output``, or to stdout when ``output`` is
    None or ``-``."""
    pieces = [text] if isinstance(text, str) else text
    if output is None or str(output) == "-":
        sys.stdout.writelines(pieces)
        sys.stdout.flush()
        return
    write_atomically(output, pieces)


def write_atomically(path: Path, pieces: Iterable[str]) -> None:
    """Replace ``path`` with the text in one rename; raise InputError if that is impossible."""
    directory = path.parent if str(path.parent) else Path(".")
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise InputError(f"cannot write output file: {exc.strerror}", path=path) from exc
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.writelines(pieces)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp_name, 0o644)
        os.replace(tmp_name, path)
    except OSError as exc:
        Path(tmp_name).unlink(missing_ok=True)
        raise InputError(f"cannot write output file: {exc.strerror}", path=path) from exc
    except BaseException:
        # The pieces are produced while writing; a failure there must not leave debris.
        Path(tmp_name).unlink(missing_ok=True)
        raise
