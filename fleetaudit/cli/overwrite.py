"""A report is never written over a file the command reads: with ``-o json=$DB`` (one
wrong variable in a cron line) the report replaced the history database, every earlier
night with it, and ``check cap.txt -o cap.txt`` replaced the capture it judged (QA)."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from fleetaudit.errors import InputError

if TYPE_CHECKING:
    from fleetaudit.inventory.model import Inventory
    from fleetaudit.policy.schema import Policy

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
    """InputError when the report file ``output`` is one of the command's ``inputs``. A
    device or FIFO is written in place, never replaced: ``-o json=/dev/null`` beside
    ``--ssh-config /dev/null`` (the usual way to ignore one) is fine."""
    if output.exists() and not output.is_file():
        return
    target = file_identity(output)
    for what, given in inputs:
        if given is None or str(given) == "-":
            continue
        if file_identity(Path(given)) == target:
            raise InputError(
                f"report file {output} is the {what} this command uses ({given}): the "
                "report would replace it; give another file"
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
    """The files ``run`` (and ``snapshot``) reads or records into, as far as the command
    line says (:func:`loaded_inputs` adds those the inventory and policy name)."""
    from fleetaudit.config import default_state_dir
    from fleetaudit.history import default_db_path

    home = Path("~/.ssh").expanduser()
    return [
        ("inventory", inventory),
        ("policy", policy),
        ("history database", (db or default_db_path()) if recording else None),
        *(("known_hosts file", path) for path in known_hosts or [home / "known_hosts"]),
        ("ssh_config", ssh_config or home / "config"),
        ("known_hosts file of --accept-new", default_state_dir() / "known_hosts"),
    ]


def loaded_inputs(inventory: Inventory | None, policy: Policy) -> Inputs:
    """The files a loaded inventory and policy were read from: the policies an
    ``extends:`` chain names, Ansible's group_vars and host_vars, and the key files."""
    files = {("policy", source) for source in (policy.source, *policy.sources)}
    if inventory is not None:
        for host in inventory.hosts:
            if host.key:
                files.add(("key file", str(Path(host.key).expanduser())))
            for origin in inventory.origins.get(host.name, {}).values():
                source, colon, line = origin.rpartition(":")
                if colon and line.isdigit():
                    files.add(("inventory file", source))
    return sorted(files)
