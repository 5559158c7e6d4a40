"""Opening the history's SQLite file, and what SQLite's failures mean to the user.

Recording creates the file 0600 (it holds every host's sockets and errors; SQLite gives
its ``-wal`` and ``-shm`` the main file's mode) and waits minutes, not seconds, for another
fleetaudit's write: the audit is done by then, and losing it is worse than waiting.
Reading works in a directory it cannot write (a read-only backup, another user's state
directory), where WAL cannot create its ``-shm``: see :func:`open_for_reading`.
"""

from __future__ import annotations

import os
import sqlite3
import stat
import time
from itertools import takewhile
from pathlib import Path
from typing import NoReturn

from fleetaudit.errors import HistoryError
from fleetaudit.planted import first_planted, world_writable

WRITE_WAIT_S = 300.0
"""How long recording waits for another fleetaudit holding the write lock. Writers hold it
for well under a second per run (pruning works in small batches), so this is only reached
when something is wrong; cron's next night would be too late for this run's record."""
READ_WAIT_S = 30.0
"""Readers seldom wait (WAL): only while a writer checkpoints or vacuums."""


def open_for_writing(path: Path) -> sqlite3.Connection:
    """A connection to ``path``, creating its directory (0700) and the file (0600) when
    missing; an existing file keeps its mode (its owner chose it). A symlink is followed,
    as SQLite follows it: the directory and file made are its target's."""
    try:
        target = path.resolve()  # a symlink loop is refused before the audit
        refuse_planted(path, target)
        if not _is_sqlite(target):
            raise HistoryError(
                f"cannot open history database {path}: it is no SQLite file at all: is --db "
                "the history's path? If it is, the history was overwritten: move it aside "
                "to start a new one"
            )
        _make_private_dirs(target.parent)
        _create_private(target)
        return sqlite3.connect(target, timeout=WRITE_WAIT_S, isolation_level=None)
    except (sqlite3.Error, OSError) as exc:
        raise HistoryError(f"cannot open history database {path}: {exc}") from exc


def _make_private_dirs(directory: Path) -> None:
    """Make ``directory`` and the parents it lacks, each 0700 (``mkdir(parents=True)``
    gives the parents the umask's mode): the history holds every host's sockets."""
    missing = takewhile(lambda each: not each.exists(), [directory, *directory.parents])
    for each in reversed(list(missing)):  # bounded by the path's depth
        each.mkdir(mode=0o700, exist_ok=True)


def _create_private(path: Path) -> None:
    """Create ``path`` empty with mode 0600 unless it exists (SQLite would create it 0644
    under the usual umask). An empty file is a new database to SQLite."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass  # an existing database, or another run creating it at this moment


WAL_SWITCH_WAIT_S = 30.0
"""How long switching a new database to WAL keeps trying while another process holds it."""


def use_wal(db: sqlite3.Connection) -> None:
    """Put the database in WAL mode (a property of the file, set once). Switching needs
    every other connection to let go, and SQLite does not wait for that (no busy handler):
    a second fleetaudit opening a new database at the same moment failed at once with
    "database is locked". So the switch is tried again, for up to ``WAL_SWITCH_WAIT_S``."""
    deadline = time.monotonic() + WAL_SWITCH_WAIT_S
    while True:  # bounded by the deadline
        try:
            if db.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                db.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if not is_locked(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def check_recordable(path: Path) -> None:
    """HistoryError now, before an audit, when its run could clearly not be recorded in
    ``path`` after it: a directory in the way, a directory that cannot be created, or no
    write access to the file or to its directory (where SQLite writes ``-wal`` and
    ``-shm``), all of a symlink's target. Changes nothing: the file and its directory are
    made when the run is recorded."""
    try:
        target = path.resolve()
    except (OSError, RuntimeError) as exc:  # RuntimeError: a symlink loop
        _unrecordable(path, str(exc))
    if target.is_dir():
        _unrecordable(path, "it is a directory")
    if target.exists() and not target.is_file():
        _unrecordable(path, "it is not a regular file")
    if target.exists() and not os.access(target, os.W_OK):
        _unrecordable(path, "it is not writable")
    refuse_planted(path, target)
    ancestor = target.parent
    while not ancestor.exists():  # bounded by the path's depth ("/" and "." exist)
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        _unrecordable(path, f"{ancestor} is not a directory")
    if not os.access(ancestor, os.W_OK | os.X_OK):
        _unrecordable(path, f"directory {ancestor} is not writable")
    for suffix in ("-wal", "-shm"):
        beside = Path(f"{target}{suffix}")
        if beside.exists() and not os.access(beside, os.W_OK):
            _unrecordable(
                path,
                f"{beside.name} beside it is not writable (left by a program that read the "
                f"database while it was read-only?): give it the database's mode, or remove "
                "it while nothing uses the database",
            )


def refuse_planted(path: Path, target: Path) -> None:
    """HistoryError when the database at ``path`` (``target``, its links followed), or a
    ``-wal``/``-shm`` beside it, may have been planted by another user
    (:mod:`fleetaudit.planted`), or when every user may write it: SQLite would read
    and write the runs in a file someone else controls, who could then rewrite the
    history that ``diff`` and the metrics trust."""
    if (reason := planted_history(path, target)) is not None:
        _unrecordable(path, reason)
    try:
        found = os.stat(target)
    except OSError:
        return
    if world_writable(found):
        _unrecordable(
            path,
            f"every user may write it (mode {stat.S_IMODE(found.st_mode):04o}), so anyone "
            "could rewrite the history that diff and the metrics trust: chmod 600 it",
        )


def planted_history(path: Path, target: Path) -> str | None:
    """Why the database at ``path`` (``target``, its links followed), or a ``-wal``/``-shm``
    beside it, may have been planted by another user, or None. For reading too: ``diff``
    and ``history`` would show what that user wrote."""
    for each in (path, Path(f"{target}-wal"), Path(f"{target}-shm")):
        try:
            suspect = first_planted(each)
        except OSError:
            continue  # a loop or unreadable link: opening the file names it
        if suspect is not None:
            where, reason = suspect
            return reason if where == path else f"{where}: {reason}"
    return None


def _unrecordable(path: Path, reason: str) -> NoReturn:
    raise HistoryError(
        f"cannot record runs in history database {path}: {reason} (give another --db)"
    )


def open_for_reading(path: Path) -> sqlite3.Connection:
    """``path`` opened read-only (never created, written or migrated), checked readable.

    In WAL mode even a reader needs the ``-shm`` file beside the database, and creates it
    when missing: in a directory it cannot write, that fails. Then, when no ``-wal`` file
    is there either, the file is opened ``immutable`` (no locks, no ``-shm``). That is
    safe because a writer in WAL mode keeps a ``-wal`` file beside the database for as
    long as it is connected: none there means no writer now, and every committed run is
    in the main file. (The directory's owner could start writing during our read, which
    takes well under a second; the worst outcome is an error, never a change to the file.)
    With a ``-wal`` there, its content may not be in the main file yet and cannot be read
    without ``-shm``: the error says so. A file this user cannot write is opened
    ``immutable`` the same way, even in a writable directory (see below).
    """
    uri = path.resolve().as_uri()
    writer_files = Path(f"{path}-wal").exists()
    if os.access(path, os.W_OK) or writer_files:
        try:
            return _checked(sqlite3.connect(f"{uri}?mode=ro", timeout=READ_WAIT_S, uri=True))
        except sqlite3.Error as exc:
            if os.access(path.parent, os.W_OK) or not _cannot_open(exc):
                raise HistoryError(
                    f"cannot open history database {path}: {exc}{damage_remedy(exc, path)}"
                ) from exc
    # else a file this user may not write: SQLite would create its -wal and -shm with the
    # file's read-only mode, and its owner's next run could not record (the owner may
    # write the file, not those)
    if writer_files:
        raise HistoryError(
            f"cannot read history database {path}: its directory is not writable, and "
            f"SQLite needs to create {path.name}-shm there to read {path.name}-wal (runs not "
            "yet copied into the main file); read it where you can write, or copy it with "
            f"`sqlite3 {path} '.backup /tmp/history.sqlite'` as a user who can"
        )
    try:
        return _checked(sqlite3.connect(f"{uri}?immutable=1", uri=True))
    except sqlite3.Error as exc:
        message = f"cannot open history database {path}: {exc}{damage_remedy(exc, path)}"
        raise HistoryError(message) from exc


def _checked(db: sqlite3.Connection) -> sqlite3.Connection:
    """``db``, once it has read the schema (opening is lazy: errors show on first use)."""
    try:
        db.isolation_level = None
        db.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.Error:
        db.close()
        raise
    return db


def _cannot_open(exc: sqlite3.Error) -> bool:
    return getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_CANTOPEN or (
        "unable to open" in str(exc)
    )


def is_locked(exc: sqlite3.Error) -> bool:
    """Whether ``exc`` is SQLite giving up waiting for another connection's lock."""
    code = getattr(exc, "sqlite_errorcode", None)
    return code in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED) or "locked" in str(exc)


def no_space_remedy(path: Path) -> str:
    """What to do when the filesystem holding ``path`` has no space left ("" otherwise):
    SQLite then says only "disk I/O error", since it cannot even make its ``-shm`` file."""
    try:
        found = os.statvfs(path.parent if str(path.parent) else ".")
    except OSError:
        return ""
    if found.f_bavail > 0:
        return ""
    return (
        " (its filesystem has no space left: free some there; until then nothing can be "
        "recorded, nor old runs deleted)"
    )


def is_full(exc: sqlite3.Error) -> bool:
    """Whether ``exc`` is SQLite finding no room on the disk (or quota) for a write."""
    return getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL or "is full" in str(exc)


def locked_error(path: Path, waited_s: float, consequence: str) -> HistoryError:
    """The message for a write that gave up waiting: what was lost, and why."""
    return HistoryError(
        f"history database {path} is locked: another process (a fleetaudit run, or any "
        f"program writing to it) held it for more than {waited_s:.0f} s; {consequence}"
    )


def damage_remedy(exc: sqlite3.Error, path: Path) -> str:
    """What to do about a database SQLite cannot read ("" for any other failure): a file
    that is no SQLite file at all is more likely a wrong --db (a known_hosts file, say)
    than a damaged history, and must not be moved aside."""
    if not any(words in str(exc) for words in ("not a database", "malformed")):
        return ""
    if not _is_sqlite(path):
        return (
            " (it is no SQLite file at all: is --db the history's path? If it is, the "
            "history was overwritten: move it aside to start a new one)"
        )
    return " (damaged: move it aside to start a new history, or give another --db)"


_SQLITE_HEADER = b"SQLite format 3\x00"
"""How every SQLite database file starts."""


def _is_sqlite(path: Path) -> bool:
    """False for a file with content that is no SQLite database (SQLite would take one of
    a few bytes for an empty database and overwrite it); True for an SQLite file, an empty
    or missing one, and one that cannot be read now (opening it says why)."""
    try:
        with open(path, "rb") as file:
            start = file.read(len(_SQLITE_HEADER))
    except OSError:
        return True
    return not start or start == _SQLITE_HEADER
