"""known_hosts files as the host-key book reads them: checked for planting, read and
validated, host patterns lower-cased as OpenSSH matches them."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import asyncssh

from fleetaudit.errors import InputError
from fleetaudit.planted import first_planted, world_writable


def lower_case_hosts(text: str) -> str:
    """known_hosts with its host patterns lower-cased: OpenSSH matches host names without
    regard to case (and hashes them lower-cased), asyncssh matches them as written, so an
    entry for ``LocalHost`` would not count for ``localhost`` and its changed key would be
    taken for an unknown one, which ``--accept-new`` learns."""
    lines = []
    for line in text.splitlines():
        fields = line.split()
        at = 1 if fields and fields[0].startswith("@") else 0
        if len(fields) > at and not fields[0].startswith("#") and not fields[at].startswith("|"):
            fields[at] = fields[at].lower()
            line = " ".join(fields)
        lines.append(line)
    return "".join(line + "\n" for line in lines)


def refuse_planted(path: Path) -> None:
    """InputError when a known_hosts file, or a directory on its way, may have been planted
    by another user (:mod:`fleetaudit.planted`), or when every user may write it: whoever
    controls a file of trusted keys can stand in for any host. The accept-new file is
    checked too: strict runs trust it."""
    try:
        suspect = first_planted(path.expanduser())
        found = os.stat(path.expanduser())
    except OSError:
        return  # missing (an empty file), a loop or an unreadable link: reading names it
    if suspect is not None:
        where, reason = suspect
        raise InputError(f"cannot trust this known_hosts file: {reason}", path=where)
    if world_writable(found):
        raise InputError(
            "cannot trust this known_hosts file: every user may write it (mode "
            f"{stat.S_IMODE(found.st_mode):04o}), and so add a key for any host: chmod go-w it",
            path=path,
        )


def read_known_hosts(path: Path) -> str:
    """The text of a known_hosts file (empty when it does not exist), checked to be one,
    ending with a newline so that files can be joined."""
    try:
        text = path.expanduser().read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return ""
    except OSError as exc:
        raise InputError(f"cannot read known_hosts: {exc.strerror}", path=path) from exc
    try:
        asyncssh.import_known_hosts(text)
    except (ValueError, asyncssh.KeyImportError) as exc:
        raise InputError(f"not a known_hosts file: {exc}", path=path) from exc
    return text if text.endswith("\n") or not text else text + "\n"
