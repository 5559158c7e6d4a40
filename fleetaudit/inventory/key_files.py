"""Key files an inventory names that cannot be read, said before any host is contacted: a
typo in ``defaults.key`` passed ``inventory check``, then failed every host of the night
one by one as ``auth_failed`` (QA)."""

from __future__ import annotations

import os
from pathlib import Path

from fleetaudit.inventory.model import Inventory, TransportKind

_NAMED = 3
"""Hosts named per unreadable key; the rest are counted."""


def unreadable_keys(inventory: Inventory) -> list[str]:
    """One warning per key file that does not exist or cannot be read, with where it is
    set and the hosts that use it."""
    users: dict[str, list[str]] = {}
    for host in inventory.hosts:
        if host.key and host.transport is TransportKind.SSH:
            users.setdefault(host.key, []).append(host.name)
    warnings = []
    for key, names in users.items():
        path = Path(key).expanduser()
        if path.is_file() and os.access(path, os.R_OK):
            continue
        problem = "is not readable" if path.is_file() else "is no file"
        if not path.exists():
            problem = "does not exist"
        origin = inventory.origins.get(names[0], {}).get("key")
        where = f" (set at {origin})" if origin else ""
        shown = ", ".join(names[:_NAMED]) + (f" and {len(names) - _NAMED} more"
                                              if len(names) > _NAMED else "")  # fmt: skip
        who = "the host" if len(names) == 1 else f"the {len(names)} hosts"
        warnings.append(
            f"key file {key}{where} {problem}: {who} logging in with it will fail ({shown})"
        )
    return warnings
