"""A report is never written over a file the command reads: with ``-o json=$DB`` (one
wrong variable in a cron line) the report replaced the history database, every earlier
night with it, and ``check cap.txt -o cap.txt`` replaced the capture it judged (QA)."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from fleetaudit.errors import InputError

Inputs = Iterable[tuple[str, Path | str | None]]
"""What a command reads, as (what it is, its path) pairs; None and ``-`` are skipped."""


def file_identity(path: Path) -> object:
    """What makes two spellings the same file: device and inode when it exists (links,
    ``./``), else the normalised absolute path."""
    try:
        found = os.stat(path)
    except OSError:
        return os.path.realpath(path)
    return (found.st_dev, found.st_ino)


def refuse_overwriting(output: Path, inputs: Inputs) -> None:
    """InputError when the report file ``output`` is one of the command's ``inputs``."""
    target = file_identity(output)
    for what, given in inputs:
        if given is None or str(given) == "-":
            continue
        if file_identity(Path(given)) == target:
            raise InputError(
                f"--output {output} is the {what} this command uses ({given}): the report "
                "would replace it; give another file"
            )


def run_inputs(
    inventory: Path,
    policy: Path | None,
    db: Path | None,
    *,
    recording: bool,
    known_hosts: Iterable[Path] | None,
    ssh_config: Path | None,
) -> list[tuple[str, Path | str | None]]:
    """The files ``run`` (and ``snapshot``) reads or records into."""
    from fleetaudit.history import default_db_path

    return [
        ("inventory", inventory),
        ("policy", policy),
        ("history database", (db or default_db_path()) if recording else None),
        *(("known_hosts file", path) for path in known_hosts or ()),
        ("ssh_config", ssh_config),
    ]
