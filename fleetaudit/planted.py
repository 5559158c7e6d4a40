"""Files another user may have planted where fleetaudit writes (reports, the history).

fleetaudit often runs as root from cron, and its reports and history may be written into a
directory other users can write (``/tmp``, a shared report directory). There another user
can plant a symbolic link (``report.json -> /etc/shadow``), and root would replace the
link's target with a report, or create a file where it points; or plant the file itself,
owned by them, which fleetaudit would fill and, keeping its owner, hand back to them to
rewrite (a clean report, a forged history). The kernel's ``fs.protected_symlinks`` and
``fs.protected_regular`` catch some of this in sticky world-writable directories, when
enabled; these checks apply the same rule wherever others can write, whatever the sysctls.

The rule, as the kernel's for links: in a directory that users other than its owner can
write, a directory, link or file counts only when it belongs to the user running
fleetaudit or to the directory's owner; and it applies to every component the path's
lookup passes through, not only the last.
"""

from __future__ import annotations

import errno
import os
import stat
from collections import deque
from collections.abc import Iterator
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


def first_planted(path: Path) -> tuple[Path, str] | None:
    """The first directory, link or file that a lookup of ``path`` passes through (every
    component, every link's target) which another user may have planted (see
    :func:`planted`), and why; None when there is none. A planted directory or directory
    link redirects a write as surely as a link at the file itself. OSError for a loop or
    an unreadable link."""
    for each, found in _walk(path):
        reason = planted(each, found)
        if reason is not None:
            return each, reason
    return None


def _walk(path: Path) -> Iterator[tuple[Path, os.stat_result]]:
    """Each existing component a lookup of ``path`` visits, with its ``lstat``, resolving
    links (and ``..`` after them) as the kernel does; it stops at the first component that
    does not exist yet (a report or history about to be made)."""
    parts = deque(Path(os.getcwd(), path).parts[1:])
    current = Path("/")
    links = 0
    while parts:  # bounded: each link adds its target's parts, at most _MAX_LINKS times
        name = parts.popleft()
        if name in ("", "."):
            continue
        if name == "..":
            current = current.parent
            continue
        candidate = current / name
        try:
            found = os.lstat(candidate)
        except FileNotFoundError:
            return
        yield candidate, found
        if not stat.S_ISLNK(found.st_mode):
            current = candidate
            continue
        links += 1
        if links > _MAX_LINKS:
            raise OSError(errno.ELOOP, os.strerror(errno.ELOOP), str(path))
        target = Path(os.readlink(candidate))
        if target.is_absolute():
            current = Path("/")
        parts.extendleft(reversed(target.parts[1:] if target.is_absolute() else target.parts))


def planted(path: Path, found: os.stat_result) -> str | None:
    """Why ``path`` (``found`` its ``lstat``; ``path.parent`` free of links) must not be
    trusted, or None.

    The reason completes "cannot write ...: " and says what to do about it."""
    try:
        directory = os.stat(path.parent)
    except OSError:
        return None  # the write itself reports the missing or unreadable directory
    if not directory.st_mode & _OTHERS_WRITE:
        return None
    if found.st_uid in (os.geteuid(), directory.st_uid):
        return None
    kind = (
        "a symbolic link"
        if stat.S_ISLNK(found.st_mode)
        else "a directory"
        if stat.S_ISDIR(found.st_mode)
        else "a file"
    )
    who = "every user" if directory.st_mode & stat.S_IWOTH else "its group"
    return (
        f"it is {kind} of uid {found.st_uid} in {path.parent}, a directory {who} "
        "can write, so it may have been planted there by that user: remove it, or use a "
        "directory only you can write"
    )


def world_writable(found: os.stat_result) -> bool:
    """Whether every user may write the file ``found`` describes."""
    return bool(found.st_mode & stat.S_IWOTH)
