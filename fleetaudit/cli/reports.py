"""Which reports a command writes, where, and with what it knows beyond the run.

``--output FORMAT=FILE`` values become (format, file) targets, checked before any work
starts (:func:`check_reports`); :func:`write_reports` then renders the run once per target
and writes each through :mod:`fleetaudit.cli.output` (files replaced atomically).
"""

from __future__ import annotations

import os
import shutil
import stat
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from fleetaudit.cli.console import error
from fleetaudit.cli.errors import StdoutError, failure_code
from fleetaudit.cli.output import (
    OUTPUT_ENVVAR,
    ClosedStdout,
    check_writable,
    final_target,
    write_report,
)
from fleetaudit.cli.overwrite import Inputs, file_identity, refuse_overwriting
from fleetaudit.errors import FleetAuditError, InputError
from fleetaudit.report import OutputFormat

if TYPE_CHECKING:
    from fleetaudit.model.run import RunResult
    from fleetaudit.report.interface import Formatter


def report_targets(
    default: OutputFormat, outputs: Sequence[str] | None
) -> list[tuple[OutputFormat, Path | None]]:
    """``--output`` values as (format, file) pairs; None is stdout. ``FORMAT=FILE`` picks a
    format, a bare ``FILE`` takes ``--format``; no ``--output`` at all is $FLEETAUDIT_OUTPUT
    (one target) or stdout. Two targets naming the same file are an error."""
    targets: list[tuple[OutputFormat, Path | None]] = []
    for given in _output_values(outputs):
        name, equals, path = given.partition("=")
        fmt, value = default, given
        if equals and name.lower() in OutputFormat.__members__.values():
            fmt, value = OutputFormat(name.lower()), path  # any case, as --format takes it
        elif equals and name.isalpha() and "/" not in name:
            known = ", ".join(f.value for f in OutputFormat)
            raise InputError(f"--output {given!r}: unknown format {name!r} (one of: {known})")
        if not value:  # `-o json=$OUT` with OUT unset must not pass for stdout
            raise InputError(f"--output {given!r}: no file given; '-' writes to stdout")
        targets.append((fmt, _target(value)))
    if sum(1 for _, path in targets if path is None) > 1:
        raise InputError("--output: only one report can go to stdout")
    _refuse_duplicates([path for _, path in targets if path is not None])
    return targets


def _target(value: str) -> Path | None:
    """The file of one ``--output`` value; None for stdout, however it is spelled (``-``,
    ``/dev/stdout``, ``/dev/fd/1``...: a second opening of fleetaudit's own stdout would
    write over what stdout writes). Fleetaudit's own stderr carries its messages and is
    refused as a report target."""
    if value == "-":
        return None
    if value.endswith("/"):  # Path() drops the slash: "out/" would become a file "out"
        raise InputError(f"--output {value!r} names a directory; give a file in it")
    path = Path(value)
    _, through_proc = final_target(path)
    if through_proc:
        for fd, stream in ((1, "stdout"), (2, "stderr")):
            if _same_file(path, fd):
                if stream == "stderr":
                    raise InputError(
                        f"--output {value!r}: that is stderr, which carries fleetaudit's "
                        "messages; write the report to stdout or a file"
                    )
                return None
    return path


def _same_file(path: Path, fd: int) -> bool:
    """True when ``path`` opens the same open file as this process's descriptor ``fd``."""
    try:
        mine, theirs = os.fstat(fd), os.stat(path)
    except OSError:
        return False
    return (mine.st_dev, mine.st_ino) == (theirs.st_dev, theirs.st_ino)


def _output_values(outputs: Sequence[str] | None) -> list[str]:
    """The ``--output`` values, else the one target in the environment, else stdout."""
    if outputs:
        return list(outputs)
    from_environment = os.environ.get(OUTPUT_ENVVAR)
    if from_environment is not None and not from_environment.strip():
        raise InputError(
            f"{OUTPUT_ENVVAR} is set but empty: give it a value, or unset it (the report would "
            "quietly go to stdout)"
        )
    return [from_environment] if from_environment else ["-"]


def _refuse_duplicates(paths: list[Path]) -> None:
    """Two reports written to one file would silently overwrite each other."""
    seen: dict[object, Path] = {}
    for path in paths:
        key = file_identity(path)
        if key in seen:
            also = f" (also as {seen[key]})" if str(seen[key]) != str(path) else ""
            raise InputError(f"--output: {path} is given twice{also}")
        seen[key] = path


def refuse_reports_over(
    default: OutputFormat, outputs: Sequence[str] | None, inputs: Inputs
) -> None:
    """InputError when an ``--output`` target is one of the files the command reads
    (``inputs``, see :mod:`.overwrite`)."""
    inputs = list(inputs)
    with _naming_the_variable(outputs):
        for _, path in report_targets(default, outputs):
            if path is not None:
                refuse_overwriting(path, inputs)


@contextmanager
def _naming_the_variable(outputs: Sequence[str] | None) -> Iterator[None]:
    """Say that a refused report target came from $FLEETAUDIT_OUTPUT: the command line
    the user reads in the cron mail names no --output."""
    try:
        yield
    except InputError as exc:
        if outputs or not os.environ.get(OUTPUT_ENVVAR):
            raise
        raise InputError(
            f"{exc} (the report target is {OUTPUT_ENVVAR}={os.environ[OUTPUT_ENVVAR]!r})"
        ) from None


def check_reports(
    default: OutputFormat, outputs: Sequence[str] | None, inputs: Inputs = ()
) -> None:
    """Fail before any work if the ``--output`` targets are invalid, clearly unwritable, or
    one of the files the command reads (``inputs``, see :mod:`.overwrite`)."""
    refuse_reports_over(default, outputs, inputs)
    for _, path in report_targets(default, outputs):
        if path is not None:
            with _naming_the_variable(outputs):
                check_writable(path)
        elif isinstance(sys.stdout, ClosedStdout):
            raise InputError(
                "cannot write the report to stdout: the program was started with stdout "
                "closed; give --output FILE"
            )


@dataclass(frozen=True, slots=True)
class RunFacts:
    """What the command knows about a run beyond its RunResult, for the formats that say it."""

    exit_code: int | None = None
    """The code the process exits with (the JSON Lines run record)."""
    last_success: datetime | None = None
    """When an earlier run audited every host of the inventory (from the history), for the
    metrics, whose file each run replaces."""
    whole_fleet: bool = True
    """False for a run of part of the inventory (--limit, --shard): its success is not the
    fleet's, so the metrics keep the history's last full success."""


def write_reports(
    run: RunResult,
    default: OutputFormat,
    outputs: Sequence[str] | None,
    facts: RunFacts = RunFacts(),  # noqa: B008 (frozen: one shared default is safe)
) -> None:
    """Render ``run`` once per target and write each (files atomically), after checking
    every target first so that one bad target does not leave the others half updated.

    A target that fails to write (a full disk) does not stop the others: the metrics and
    the other reports of the night are still written. JSON Lines run records say the exit
    code the process ends with: they are written last, and one written to a regular file
    before another target failed is written again. Those that cannot be written twice
    (a device, then stdout and FIFOs, whose reader would get the night twice) come after
    all the others. One failure is raised after all targets were tried (:func:`_first`), the
    others are said on stderr."""
    from fleetaudit.report.jsonl import JsonLinesFormatter  # with the run, not the CLI

    check_reports(default, outputs)
    failures: list[FleetAuditError] = []
    records: list[tuple[JsonLinesFormatter, Path]] = []
    for fmt, path in sorted(report_targets(default, outputs), key=_write_order):
        formatter = _formatter(fmt, path, facts)
        if isinstance(formatter, JsonLinesFormatter) and failures:
            formatter.exit_code = failure_code(_first(failures))
        if _written(formatter, run, path, failures):
            if isinstance(formatter, JsonLinesFormatter) and _rewritable(path):
                assert path is not None  # stdout is never rewritable
                records.append((formatter, path))
    if not failures:
        return
    code = failure_code(_first(failures))
    for formatter, path in records:  # at most the few JSON Lines targets given
        if formatter.exit_code != code:
            formatter.exit_code = code
            _written(formatter, run, path, failures)
    raised = _first(failures)
    for other in failures:
        if other is not raised:
            error(str(other))
    raise raised


def _write_order(target: tuple[OutputFormat, Path | None]) -> int:
    """Other formats first, then JSON Lines: to regular files (written again when a later
    target fails), to devices, and last to readers that take one copy (stdout, a FIFO)."""
    fmt, path = target
    if fmt is not OutputFormat.JSONL:
        return 0
    return {"file": 1, "device": 2, "stream": 3}[_kind(path)]


def _rewritable(path: Path | None) -> bool:
    """Whether a report can be written to ``path`` a second time, replacing the first: a
    regular file (or one still to be made), not stdout, a FIFO or a device."""
    return _kind(path) == "file"


def _kind(path: Path | None) -> str:
    """What a target is: ``stream`` (stdout, a FIFO: one reader, one copy), ``file`` (a
    regular file, or one still to be made) or ``device``."""
    if path is None:
        return "stream"
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return "file"  # not there yet: written as a new regular file
    if stat.S_ISREG(mode):
        return "file"
    return "stream" if stat.S_ISFIFO(mode) else "device"


def _formatter(fmt: OutputFormat, path: Path | None, facts: RunFacts) -> Formatter:
    """The formatter of one target, told what it shows beyond the run."""
    from fleetaudit.report.jsonl import JsonLinesFormatter
    from fleetaudit.report.prom import PromFormatter
    from fleetaudit.report.table import TableFormatter

    formatter = fmt.formatter()
    if isinstance(formatter, TableFormatter) and path is None and sys.stdout.isatty():
        formatter.colour = _colour_terminal()
        formatter.width = max(shutil.get_terminal_size().columns, _NARROWEST)
    if isinstance(formatter, PromFormatter):
        formatter.last_success = facts.last_success
        formatter.whole_fleet = facts.whole_fleet
    if isinstance(formatter, JsonLinesFormatter):
        formatter.exit_code = facts.exit_code
    return formatter


def _written(
    formatter: Formatter, run: RunResult, path: Path | None, failures: list[FleetAuditError]
) -> bool:
    """Write one report; a failure is added to ``failures`` (the other targets go on)."""
    try:
        write_report(formatter.pieces(run), path)
    except FleetAuditError as exc:
        failures.append(exc)
        return False
    return True


def _first(failures: list[FleetAuditError]) -> FleetAuditError:
    """The failure that ends the process: stdout's when it failed (its handler stops
    Python flushing it again at exit), else the first."""
    return next((f for f in failures if isinstance(f, StdoutError)), failures[0])


_NARROWEST = 60
"""Narrowest table width: a tiny terminal wraps, rather than squeezing words apart."""


def _colour_terminal() -> bool:
    """stdout is a terminal that wants colour (https://no-color.org is honoured)."""
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    return sys.stdout.isatty()
