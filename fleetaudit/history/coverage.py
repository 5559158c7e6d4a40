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
