"""Lint against an inventory: selectors that select no host of it, or whose ``not:`` names
something it does not have (then the exclusion excludes nothing, and the rule or waiver
takes in hosts it was meant to skip: the dangerous direction of a typo).

Each selector is also evaluated as a whole, with :meth:`HostSelector.selects` (what the
engine runs), on every inventory host, so that conditions that each name something but
hold together for no host (``{groups: [web], hosts: ["db*"]}``) are caught too.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from fnmatch import fnmatchcase

from fleetaudit.inventory.model import Host, Inventory
from fleetaudit.model.enums import HostStatus
from fleetaudit.model.host import HostSnapshot
from fleetaudit.policy.selectors import HostSelector
from fleetaudit.yamlsource import Loc

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EXCLUDES_NOTHING = (
    "so this exclusion excludes no host and the selector takes in hosts it was meant to skip"
)


def as_snapshots(inventory: Inventory) -> tuple[HostSnapshot, ...]:
    """The inventory's hosts as the engine's selectors see them (name, groups, labels)."""
    return tuple(_snapshot(host) for host in inventory.hosts)


def _snapshot(host: Host) -> HostSnapshot:
    return HostSnapshot(
        host=host.name,
        address=host.address,
        groups=host.groups,
        labels=host.labels,
        status=HostStatus.OK,
        collected_at=_EPOCH,
    )


def selected(select: HostSelector, hosts: tuple[HostSnapshot, ...]) -> set[str]:
    """The names of the hosts ``select`` selects."""
    return {host.host for host in hosts if select.selects(host)}


def selector_problems(
    select: HostSelector, hosts: tuple[HostSnapshot, ...], loc: Loc
) -> Iterator[tuple[Loc, str]]:
    """Every group, host glob and label of ``select`` (``not:`` included) that names nothing
    in the inventory; then, when each names something, a selector that selects no host."""
    named = list(_unnamed(select, hosts, loc, negated=False))
    yield from named
    if any(at[: len(loc) + 1] != (*loc, "not") for at, _ in named):
        return  # a positive condition already names nothing: the selector picks no host
    if not selected(select, hosts):
        yield loc, "select picks no inventory host: its conditions hold together for none"


def _unnamed(
    select: HostSelector, hosts: tuple[HostSnapshot, ...], loc: Loc, negated: bool
) -> Iterator[tuple[Loc, str]]:
    groups = {group for host in hosts for group in host.groups}
    # a `not:` whose other entries still exclude hosts excludes those: say only what the
    # entry itself does (`not: {groups: [db, cache]}` on an inventory without cache)
    excludes = negated and bool(selected(select, hosts))
    for index, group in enumerate(select.groups or ()):
        if group not in groups:
            yield (*loc, "groups", index), _said(f"no group {group!r}", negated, excludes)
    for index, glob in enumerate(select.hosts or ()):
        if not any(fnmatchcase(host.host, glob) for host in hosts):
            yield (*loc, "hosts", index), _said(f"no host matching {glob!r}", negated, excludes)
    for key, value in (select.labels or {}).items():
        if not any(host.labels.get(key) == value for host in hosts):
            missing = f"no host with label {key}={value}"
            yield (*loc, "labels", key), _said(missing, negated, excludes)
    if select.not_ is not None:
        yield from _unnamed(select.not_, hosts, (*loc, "not"), not negated)


def _said(missing: str, negated: bool, excludes_others: bool = False) -> str:
    """``missing`` (``no group 'x'``) as a warning: for a ``not:``, what that means, which
    depends on whether its other entries still exclude hosts."""
    if not negated:
        return f"{missing} in the inventory"
    named = missing.removeprefix("no ")
    if excludes_others:
        return (
            f"`not:` names {named}, but the inventory has {missing}: that entry excludes "
            "nothing (the others still do); if it is a typo, hosts meant to be skipped are judged"
        )
    return f"`not:` names {named}, but the inventory has {missing}, {_EXCLUDES_NOTHING}"
