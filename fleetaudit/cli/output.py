"""Write a report to stdout or, atomically, to a file.

A report file is replaced in one step (temporary file in the same directory, fsync, rename)
so that cron jobs and dashboards never read half a report, and a failed run never truncates
the previous one.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path

from fleetaudit.errors import InputError
from fleetaudit.model.run import RunResult
from fleetaudit.report import OutputFormat, TableFormatter


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


def report_targets(
    default: OutputFormat, outputs: Sequence[str] | None
) -> list[tuple[OutputFormat, Path | None]]:
    """``--output`` values as (format, file) pairs; None is stdout. ``FORMAT=FILE`` picks a
    format, a bare ``FILE`` takes ``--format``; no ``--output`` at all is stdout."""
    targets: list[tuple[OutputFormat, Path | None]] = []
    for value in outputs or ["-"]:
        name, equals, path = value.partition("=")
        fmt = default
        if equals and name in OutputFormat.__members__.values():
            fmt, value = OutputFormat(name), path
        elif equals and name.isalpha() and "/" not in name:
            known = ", ".join(f.value for f in OutputFormat)
            raise InputError(f"--output {value!r}: unknown format {name!r} (one of: {known})")
        targets.append((fmt, None if value in ("", "-") else Path(value)))
    if sum(1 for _, path in targets if path is None) > 1:
        raise InputError("--output: only one report can go to stdout")
    return targets


def write_reports(run: RunResult, default: OutputFormat, outputs: Sequence[str] | None) -> None:
    """Render ``run`` once per target and write each (files atomically)."""
    for fmt, path in report_targets(default, outputs):
        formatter = fmt.formatter()
        if isinstance(formatter, TableFormatter) and path is None and _colour_terminal():
            formatter.colour = True
        write_report(formatter.pieces(run), path)


def _colour_terminal() -> bool:
    """stdout is a terminal that wants colour (https://no-color.org is honoured)."""
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    return sys.stdout.isatty()
