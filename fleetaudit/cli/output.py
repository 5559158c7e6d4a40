"""Write a report to stdout or to a file, without ever destroying what is not a report.

A report file is replaced in one step (temporary file in the same directory, fsync, rename)
so that cron jobs and dashboards never read half a report, and a failed run never truncates
the previous one. The replacement keeps the old file's permission bits and, where allowed,
its owner and group; a new file gets ``0666 & ~umask``, as a shell redirection would.

What is not a regular file is never replaced: a device (``/dev/null``), a FIFO, a terminal or
a descriptor of this process (``/dev/fd/3``, ``/proc/self/fd/N``) is opened and written in
place, in append mode, as ``>>`` would (a FIFO waits for its reader, as ``>`` does). Any
spelling of fleetaudit's own stdout (``/dev/stdout``, ``/dev/fd/1``) is stdout itself, and
its stderr, which carries the messages, is refused. A symbolic link stays a link: the file
it points to is the one replaced.

Every target is checked before any work starts
(:func:`fleetaudit.cli.reports.check_reports`, with :func:`check_writable`), so a bad ``-o``
fails in a second, not after an hour-long audit.
"""

from __future__ import annotations

import errno
import io
import os
import select
import stat
import sys
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path

from fleetaudit.cli.errors import StdoutError
from fleetaudit.cli.overwrite import Inputs, refuse_overwriting
from fleetaudit.errors import InputError
from fleetaudit.planted import first_planted, link_chain
from fleetaudit.signals import removed_if_stopped_at_once
from fleetaudit.stderr import write_line

OUTPUT_ENVVAR = "FLEETAUDIT_OUTPUT"
"""One ``[FORMAT=]FILE`` target used when no ``--output`` is given; never split, so a path
with spaces works (several targets need several ``-o``)."""


class ClosedStdout(io.TextIOBase):
    """Stands in for a stdout the process was started without: writing to it fails as
    writing to a closed descriptor does, so the report that was meant for it is an error
    ("cannot write to stdout"), not an AttributeError on None."""

    def write(self, text: str) -> int:
        raise OSError(errno.EBADF, os.strerror(errno.EBADF))

    def isatty(self) -> bool:
        return False


def one_file(output: Path | None, inputs: Inputs = ()) -> Path | None:
    """``output`` of a command whose ``-o`` takes a file only (``snapshot``, ``parse``,
    ``diff``); InputError for a ``FORMAT=FILE`` written as ``run`` takes it, which would
    otherwise become a file named ``json=s3.json``, and for one of the files the command
    reads (``inputs``, see :mod:`.overwrite`)."""
    from fleetaudit.report import OutputFormat

    if output is not None and str(output) != "-":
        refuse_overwriting(output, inputs)

    prefix, equals, rest = str(output or "").partition("=")
    if equals and prefix.lower() in {choice.value for choice in OutputFormat}:
        meant = f"did you mean --output {rest}?" if rest else "give a file"
        raise InputError(
            f"--output {output}: this command's --output takes a file, not FORMAT=FILE "
            f"(--format chooses the format): {meant} (A file really named so: give its "
            "absolute path.)"
        )
    return output


def write_report(text: str | Iterable[str], output: Path | None) -> None:
    """Write ``text`` (one string, or pieces) to ``output``, or to stdout when ``output`` is
    None or ``-``. A stdout that cannot be written raises StdoutError."""
    pieces = [text] if isinstance(text, str) else text
    if output is None or str(output) == "-":
        try:
            _write_stdout(pieces)
        except OSError as exc:
            raise StdoutError(exc) from exc
        return
    write_atomically(output, pieces)


_NEVER_FAIL = frozenset(
    {"backslashreplace", "replace", "xmlcharrefreplace", "namereplace", "ignore"}
)
"""Encoding error handlers that never fail, so an operator's PYTHONIOENCODING choice stands."""


def _write_stdout(pieces: Iterable[str]) -> None:
    """Write every piece whole to stdout, through its binary layer.

    Under ``PYTHONUNBUFFERED`` (set in many container images) sys.stdout writes straight to
    the descriptor and drops what one write(2) did not take: a reader that went away in
    the middle of a large report (``| head``) cut it short without an error, and the run
    exited with its usual code, not 141; a signal arriving mid-write would cut it too."""
    stream = sys.stdout
    binary = getattr(stream, "buffer", None)
    if binary is None:  # not a real stream (a test runner's), or ClosedStdout
        stream.writelines(pieces)
        stream.flush()
        return
    stream.flush()
    encoding = stream.encoding or "utf-8"
    # A name the encoding cannot hold (a process called "nč" under PYTHONIOENCODING=ascii)
    # is shown escaped, as terminal_safe shows a control character: never a failed report.
    # Python gives stdout "surrogateescape" under the C locale, which fails on such a name
    # as "strict" does; only handlers that never fail are kept.
    errors = stream.errors if stream.errors in _NEVER_FAIL else "backslashreplace"
    for piece in pieces:
        data = memoryview(piece.encode(encoding, errors))
        while data:
            written = binary.write(data)
            if written is None:  # a non-blocking descriptor that is full: wait for room
                select.select([], [binary], [])
                continue
            data = data[written:]
    binary.flush()


def write_atomically(path: Path, pieces: Iterable[str]) -> None:
    """Write the report to ``path``: in place when it is a device, FIFO or descriptor,
    else by atomically replacing the (final target of the) file. InputError if impossible."""
    existing = _stat(path)
    if existing is not None and stat.S_ISDIR(existing.st_mode):
        raise InputError("cannot write output file: it is a directory", path=path)
    target, through_proc = final_target(path)
    if through_proc or (existing is not None and not stat.S_ISREG(existing.st_mode)):
        _write_in_place(path, pieces)
    else:
        _replace(target, pieces, existing, shown=path)


def _write_in_place(path: Path, pieces: Iterable[str]) -> None:
    """Open and write ``path`` without truncating or replacing it (a device, a FIFO...)."""
    try:
        with os.fdopen(_open_in_place(path), "a", encoding="utf-8") as handle:
            handle.writelines(pieces)
    except OSError as exc:
        raise InputError(f"cannot write output file: {exc.strerror}", path=path) from exc


_READER_WAIT = 10.0
"""Seconds a report waits for a FIFO's reader to open it (one started just after the run)."""


def _open_in_place(path: Path) -> int:
    """A descriptor writing to ``path``. A FIFO waits at most ``_READER_WAIT`` seconds for
    a reader, saying so: a blocking open would wait forever for one that never comes (its
    exporter is down), after the audit, where not even the run's first signal stops it."""
    deadline = None
    while True:
        try:
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_NONBLOCK)
            break
        except OSError as exc:
            if exc.errno != errno.ENXIO or not stat.S_ISFIFO(os.stat(path).st_mode):
                raise
            if deadline is None:
                deadline = time.monotonic() + _READER_WAIT
                write_line(
                    f"fleetaudit: {path}: waiting up to {_READER_WAIT:g} s for a process to "
                    "read this FIFO"
                )
            elif time.monotonic() >= deadline:
                exc.strerror = "it is a FIFO that no process is reading"
                raise
            time.sleep(0.1)
    os.set_blocking(fd, True)  # the report is written whole, waiting for the reader
    return fd


def _replace(
    target: Path, pieces: Iterable[str], existing: os.stat_result | None, *, shown: Path
) -> None:
    """Replace ``target`` in one rename with a fully written, fsynced temporary file."""
    directory = target.parent if str(target.parent) else Path(".")
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise InputError(f"cannot write output file: {exc.strerror}", path=shown) from exc
    try:
        with removed_if_stopped_at_once(tmp_name):
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.writelines(pieces)
                handle.flush()
                os.fsync(handle.fileno())
            _take_over_mode(tmp_name, existing)
            os.replace(tmp_name, target)
    except OSError as exc:
        Path(tmp_name).unlink(missing_ok=True)
        raise InputError(f"cannot write output file: {exc.strerror}", path=shown) from exc
    except BaseException:
        # The pieces are produced while writing; a failure there must not leave debris.
        Path(tmp_name).unlink(missing_ok=True)
        raise


def _take_over_mode(tmp_name: str, existing: os.stat_result | None) -> None:
    """Give the new file the old one's mode, owner and group (readers such as a node_exporter
    must keep their access), or a new file the mode a shell redirection would give it."""
    if existing is None:
        os.chmod(tmp_name, 0o666 & ~_umask())
        return
    os.chmod(tmp_name, stat.S_IMODE(existing.st_mode))
    if (existing.st_uid, existing.st_gid) != (os.geteuid(), os.getegid()):
        try:
            os.chown(tmp_name, existing.st_uid, existing.st_gid)
        except PermissionError:
            pass  # only root may give a file away; the mode is kept all the same


def _umask() -> int:
    """The process umask (reading it means setting it; fleetaudit is single-threaded here)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _stat(path: Path) -> os.stat_result | None:
    """``stat`` following links; None when nothing is there yet."""
    try:
        return os.stat(path)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise InputError(f"cannot write output file: {exc.strerror}", path=path) from exc


def final_target(path: Path) -> tuple[Path, bool]:
    """The path a chain of symbolic links at ``path`` ends at (``path`` itself when it is
    no link), and whether the chain passes through /proc, i.e. names an open descriptor
    (``/dev/stdout``), which must be written in place, never replaced. A link or file
    another user may have planted on the way (:mod:`fleetaudit.planted`) is refused."""
    try:
        chain = link_chain(path)
        through_proc = any(os.path.realpath(each.parent).startswith("/proc/") for each in chain)
        # a descriptor is open already: where it leads was settled by whoever opened it
        suspect = None if through_proc else first_planted(path)
    except OSError as exc:
        raise InputError(f"cannot write output file: {exc.strerror}", path=path) from exc
    if suspect is not None:
        where, reason = suspect
        raise InputError(f"cannot write output file: {reason}", path=where)
    return chain[-1], through_proc


def check_writable(path: Path) -> None:
    """Raise InputError now if a report could clearly not be written to ``path`` later:
    it is a directory, its directory is missing, or it or its directory is not writable."""
    existing = _stat(path)
    if existing is not None and stat.S_ISDIR(existing.st_mode):
        raise InputError("cannot write output file: it is a directory", path=path)
    target, through_proc = final_target(path)
    if through_proc and existing is None:
        raise InputError(
            "cannot write output file: it names a file descriptor that is not open", path=path
        )
    if existing is not None and not stat.S_ISREG(existing.st_mode):
        if not os.access(path, os.W_OK):
            raise InputError("cannot write output file: Permission denied", path=path)
        return
    directory = target.parent if str(target.parent) else Path(".")
    if not directory.is_dir():
        problem = "is not a directory" if directory.exists() else "does not exist"
        raise InputError(f"cannot write output file: {directory} {problem}", path=path)
    if not os.access(directory, os.W_OK | os.X_OK):
        raise InputError(
            f"cannot write output file: Permission denied (directory {directory})", path=path
        )
    if existing is not None and not _may_replace(existing, os.stat(directory)):
        raise InputError(
            f"cannot write output file: it belongs to uid {existing.st_uid} and {directory} "
            "is a sticky directory, where only a file's owner (or the directory's) may "
            "replace it",
            path=path,
        )


def _may_replace(file: os.stat_result, directory: os.stat_result) -> bool:
    """Whether this process may rename another file over ``file`` in ``directory``: in a
    sticky directory (``/tmp``) only the file's owner, the directory's owner or root may."""
    if not directory.st_mode & stat.S_ISVTX or os.geteuid() == 0:
        return True
    return os.geteuid() in (file.st_uid, directory.st_uid)
