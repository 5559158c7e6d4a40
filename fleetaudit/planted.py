"""Files another user may have planted where fleetaudit writes (reports, the history).

fleetaudit often runs as root from cron, and its reports and history may be written into a
directory other users can write (``/tmp``, a shared report directory). There another user
can plant a symbolic link (``report.json -> /etc/shadow``), and root would replace the
link's target with a report, or create a file where it points; or plant the file itself,
owned by them, which fleetaudit would fill and, keeping its owner, hand back to them to
rewrite (a clean report, a forged history). The kernel's ``fs.protected_symlinks`` and
``fs.protected_regular`` catch some of this in sticky world-writable directories, when
enabled; these checks apply the same rule wherever others can write, whatever the sysctls.

The rule, as the kernel's: in a directory that users other than its owner can write, a
link or file counts only when it belongs to the user running fleetaudit or to the
directory's owner.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

_OTHERS_WRITE = stat.S_IWGRP | stat.S_IWOTH
_MAX_LINKS = 40
"""Symbolic links followed before giving up, as Linux does (MAXSYMLINKS)."""


def link_chain(path: Path) -> list[Path]:
    """``path``, then each path the symbolic links starting there point to, in order: the
    last one is no link (it may not exist). OSError for a loop or an unreadable link."""
    chain = [path]
    for _ in range(_MAX_LINKS):
        if not path.is_symlink():
            return chain
        link = Path(os.readlink(path))
        path = link if link.is_absolute() else path.parent / link
        chain.append(path)
    raise OSError(errno.ELOOP, os.strerror(errno.ELOOP), str(path))


def first_planted(chain: list[Path]) -> tuple[Path, str] | None:
    """The first link of ``chain`` (as :func:`link_chain` gives it), or the file it ends
    at, which another user may have planted (see :func:`planted`), and why; None when
    there is none."""
    for each in chain:
        try:
            found = os.lstat(each)
        except FileNotFoundError:
            return None  # the end of the chain, not made yet
        if stat.S_ISDIR(found.st_mode):
            return None
        reason = planted(each, found)
        if reason is not None:
            return each, reason
    return None


def planted(path: Path, found: os.stat_result) -> str | None:
    """Why ``path`` (a link or file, ``found`` its ``lstat``) must not be trusted, or None.

    The reason completes "cannot write ...: " and says what to do about it."""
    try:
        directory = os.stat(path.parent)
    except OSError:
        return None  # the write itself reports the missing or unreadable directory
    if not directory.st_mode & _OTHERS_WRITE:
        return None
    if found.st_uid in (os.geteuid(), directory.st_uid):
        return None
    kind = "a symbolic link" if stat.S_ISLNK(found.st_mode) else "a file"
    who = "every user" if directory.st_mode & stat.S_IWOTH else "its group"
    return (
        f"it is {kind} of uid {found.st_uid} in {path.parent}, a directory {who} "
        f"can write, so it may have been planted there to make fleetaudit "
        f"{'write elsewhere' if kind.endswith('link') else 'hand its output to that user'}"
        ": remove it, or write to a directory only you can write"
    )


def world_writable(found: os.stat_result) -> bool:
    """Whether every user may write the file ``found`` describes."""
    return bool(found.st_mode & stat.S_IWOTH)
