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
    ``--limit`` must not turn into a green run that audited nothing. An empty pattern (or
    an empty item of a comma-separated one) is an error too: it is what an unset variable
    in ``--limit "$GROUP"`` gives, and it must not widen the run to the whole fleet.
    """
    if not patterns:
        return inventory.hosts
    terms = [_term(term, pattern, inventory) for pattern in patterns for term in pattern.split(",")]
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


def _term(term: str, pattern: str, inventory: Inventory) -> str:
    """``term`` without surrounding spaces; an error naming ``pattern`` when it is empty."""
    if not term.strip().removeprefix("!").strip():
        raise InventoryError(
            f"--limit {pattern!r} contains an empty pattern (an unset variable?); name a host "
            "or group glob, or leave --limit out to audit every host",
            path=inventory.source,
        )
    return term.strip()


def _matches(host: Host, pattern: str) -> bool:
    return fnmatchcase(host.name, pattern) or any(fnmatchcase(g, pattern) for g in host.groups)
