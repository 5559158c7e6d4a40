"""``--limit``: choose hosts by name or group glob, Ansible style."""

from __future__ import annotations

from collections.abc import Sequence
from fnmatch import fnmatchcase

from fleetaudit.errors import InventoryError
from fleetaudit.inventory.model import Host, Inventory


def select_hosts(inventory: Inventory, patterns: Sequence[str]) -> tuple[Host, ...]:
    """Hosts matching any pattern and no ``!pattern``; patterns may be comma-separated.

    A pattern is a glob over host names and group names (``web*``, ``db``, ``!db3``). A
    pattern that matches nothing is an error, not an empty selection: at 3 a.m. a typo in
    ``--limit`` must not turn into a green run that audited nothing.
    """
    terms = [term.strip() for pattern in patterns for term in pattern.split(",")]
    terms = [term for term in terms if term]
    if not terms:
        return inventory.hosts
    includes = [term for term in terms if not term.startswith("!")]
    excludes = [term[1:] for term in terms if term.startswith("!")]
    for pattern in (*includes, *excludes):
        if not any(_matches(host, pattern) for host in inventory.hosts):
            raise InventoryError(
                f"--limit {pattern!r} matches no host or group", path=inventory.source
            )
    chosen = tuple(
        host
        for host in inventory.hosts
        if (not includes or any(_matches(host, p) for p in includes))
        and not any(_matches(host, p) for p in excludes)
    )
    if not chosen:
        raise InventoryError(f"--limit {','.join(terms)!r} leaves no host", path=inventory.source)
    return chosen


def _matches(host: Host, pattern: str) -> bool:
    return fnmatchcase(host.name, pattern) or any(fnmatchcase(g, pattern) for g in host.groups)
