"""What a recorded run covered: which inventory, and whether every host of it.

``fleetaudit_last_success_timestamp_seconds`` promises "when a run last audited every
host", and an alert fires when that is days old. A run that audited all the hosts *it
selected* keeps that promise only when it selected the whole inventory: an ad-hoc
``--limit web1`` run or one ``--shard K/N`` audits part of the fleet, and counting it would
hide a fleet not fully audited for days. A run counts only for its own inventory file, too:
a full audit of a lab inventory sharing the database says nothing about production.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from fleetaudit.errors import InputError
from fleetaudit.report.summary import first_names


@dataclass(frozen=True, slots=True)
class Coverage:
    """Recorded with a run (``runs.inventory``, ``runs.whole_inventory``)."""

    inventory: str
    """The inventory, as :func:`inventory_key` names it."""
    whole: bool
    """True when the run selected every host of the inventory: no ``--limit`` or shard
    left one out (``--shard 1/1`` and ``--limit '*'`` select them all, so they count)."""


def coverage_of(inventory: Path, in_inventory: Iterable[str], selected: Iterable[str]) -> Coverage:
    """The coverage of a run of ``inventory`` (whose hosts are ``in_inventory``) that
    audited the hosts ``selected`` after ``--limit`` and ``--shard``.

    Decided by the hosts, not by the options: what the metric promises is every host."""
    return Coverage(inventory_key(inventory), set(selected) == set(in_inventory))


def inventory_key(inventory: Path) -> str:
    """The inventory as an absolute path, so that ``prod.yaml`` run from /etc/fleetaudit
    and cron's ``/etc/fleetaudit/prod.yaml`` are one inventory; symlinks are not resolved
    (a link switched to a new version of the file is still the same inventory). ``-``
    (JSON on stdin) stays ``-``: such runs are compared with each other."""
    text = str(inventory)
    return text if text == "-" else os.path.abspath(text)


def merged_coverage(
    inventory: Path, in_inventory: Iterable[str], merged: Iterable[str], *, split_from_all: bool
) -> Coverage:
    """The coverage of a merged sharded run, whose shards hold the hosts ``merged``, as a
    run of ``inventory`` (whose hosts are ``in_inventory``); ``split_from_all`` when the
    shards say their selection was a whole inventory.

    The shards do not name their inventory, so the one given is checked against them: every
    merged host must be in it, and shards of a whole inventory must hold exactly its hosts.
    InputError otherwise, naming the difference: recording the merge as a full audit of
    another inventory would reset that inventory's last-success clock for nothing.
    """
    known, held = set(in_inventory), set(merged)
    strangers = sorted(held - known)
    if strangers:
        raise InputError(
            f"the shards hold hosts that are not in the inventory: "
            f"{first_names(strangers, 5)} (give the inventory the shards were run with)",
            path=inventory,
        )
    missing = sorted(known - held)
    if split_from_all and missing:
        raise InputError(
            f"the shards were split from a whole inventory of {len(held)} hosts, this one "
            f"has {len(known)}; not in the shards: {first_names(missing, 5)} (another "
            "inventory, or this one changed since the shards ran)",
            path=inventory,
        )
    return Coverage(inventory_key(inventory), whole=split_from_all)
