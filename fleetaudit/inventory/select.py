"""``--limit``: choose hosts by name or group glob, with Ansible's pattern operators.

Supported, with Ansible's meaning ("Patterns: targeting hosts and groups"): ``all`` (every
host, as Ansible's implicit group), globs over host and group names (matched as Ansible's
``_evaluate_patterns`` does, see :func:`_matched`), lists separated by ``,`` or (when
there is no comma) ``:``, ``&pattern`` (only hosts also matching it) and ``!pattern`` (not
these).
As in Ansible, the plain patterns are joined first, then narrowed by every ``&``, then the
``!`` ones removed, whatever the order written; with only ``&``/``!`` patterns, the start is
every host. Repeated ``--limit`` options add their patterns to one list.

Refused with what to write instead, because a glob would read them differently from Ansible
and select other hosts: ``~regex``, subscripts (``web[0]``, ``web[1:2]``, ``web[-1]``) and
``@file``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from fnmatch import fnmatchcase

from fleetaudit.errors import InventoryError
from fleetaudit.inventory.model import Host, Inventory

ALL = "all"
# Ansible's subscript: NAME[N], NAME[N:M], NAME[N-M], NAME[:M], NAME[-N].
_SUBSCRIPT = re.compile(r"(.+)\[(-?[0-9]+|[0-9]+[:-][0-9]*|:[0-9]*)\]")


def select_hosts(inventory: Inventory, patterns: Sequence[str]) -> tuple[Host, ...]:
    """Hosts matching ``patterns`` (see the module docstring); every host without any.

    A pattern that matches nothing is an error, not an empty selection: at 3 a.m. a typo in
    ``--limit`` must not turn into a green run that audited nothing. An empty pattern (or
    an empty item of a list) is an error too: it is what an unset variable in
    ``--limit "$GROUP"`` gives, and it must not widen the run to the whole fleet.
    """
    if not patterns:
        _refuse_selected(inventory, {r.name for r in inventory.refused})
        return inventory.hosts
    terms = [term for pattern in patterns for term in _terms(pattern, inventory)]
    matched = {term: _matched(inventory, term) for term in terms}
    for term in terms:  # as written: '!typo' names the exclusion that matches nothing
        if matched[term] is None:
            raise InventoryError(
                f"--limit {term!r} matches no host or group", path=inventory.source
            )
    selects = {term: names or set() for term, names in matched.items()}
    includes = [selects[term] for term in terms if term[0] not in "!&"]
    narrows = [selects[term] for term in terms if term.startswith("&")]
    excludes = [selects[term] for term in terms if term.startswith("!")]
    chosen_names = {
        name
        for name, _ in _members(inventory)
        if (not includes or any(name in names for names in includes))
        and all(name in names for names in narrows)
        and not any(name in names for names in excludes)
    }
    _refuse_selected(inventory, chosen_names)
    chosen = tuple(host for host in inventory.hosts if host.name in chosen_names)
    if not chosen:
        given = " ".join(f"--limit {pattern!r}" for pattern in patterns)
        raise InventoryError(f"{given} leaves no host", path=inventory.source)
    return chosen


def _members(inventory: Inventory) -> list[tuple[str, tuple[str, ...]]]:
    """Every host's name and groups, the refused ones (see ``Inventory.refused``) too: a
    pattern selects them as Ansible would, and selecting one is an error."""
    hosts = [(host.name, host.groups) for host in inventory.hosts]
    return hosts + [(refused.name, refused.groups) for refused in inventory.refused]


_NAMED = 5
"""Refused hosts a message names; the rest are counted."""


def _refuse_selected(inventory: Inventory, chosen: set[str]) -> None:
    """The error of the first refused host among ``chosen``, saying how to leave out every
    refused host chosen (one run per host to find them all, otherwise)."""
    selected = [refused for refused in inventory.refused if refused.name in chosen]
    if not selected:
        return
    names = [refused.name for refused in selected]
    if len(names) == 1:
        raise selected[0].error(f" (or leave the host out: --limit '!{names[0]}')")
    more = len(names) - _NAMED
    shown = ", ".join(names[:_NAMED]) + (f" and {more} more" if more > 0 else "")
    raise selected[0].error(
        f" ({len(names)} selected hosts cannot be audited as written: {shown}; leave them "
        f"out with --limit '!{':!'.join(names[:_NAMED])}', or by a group of theirs)"
    )


def _terms(pattern: str, inventory: Inventory) -> list[str]:
    """The terms of one ``--limit`` value, split as Ansible splits them: on ``,`` when it
    holds one (``a:b,c`` is the terms ``a:b`` and ``c``), else on ``:``; Ansible syntax that
    is not supported, or an empty term, is an error naming ``pattern``."""
    terms: list[str] = []
    # Ansible's split_host_pattern: on commas when there is one, else on colons
    for item in pattern.split(",") if "," in pattern else _COLON.split(pattern):
        _refuse_unsupported(item.strip(), pattern, inventory)
        terms.append(_term(item, pattern, inventory))
    return terms


def _refuse_unsupported(item: str, pattern: str, inventory: Inventory) -> None:
    """Refuse the Ansible pattern forms a glob would silently read another way."""
    bare = item.lstrip("!&").strip()
    if bare.startswith("~"):
        problem = "Ansible regex patterns (~REGEX) are not supported; use globs ('web*')"
    elif _SUBSCRIPT.fullmatch(bare):
        problem = (
            "Ansible subscripts (GROUP[N], GROUP[N:M]) are not supported; name the hosts, "
            "or use a glob ('web0?', 'web*')"
        )
    elif bare.startswith("@"):
        problem = "reading patterns from a file (@FILE) is not supported; give them to --limit"
    else:
        return
    raise InventoryError(
        f"--limit {pattern!r}: {problem}. Supported: globs, 'all', lists with ',' or ':' or "
        "repeated --limit, '&glob' (also in), '!glob' (not in)",
        path=inventory.source,
    )


def _term(term: str, pattern: str, inventory: Inventory) -> str:
    """``term`` without spaces around it or after its ``!``/``&``; an error naming
    ``pattern`` when it is empty."""
    term = term.strip()
    operator = term[:1] if term[:1] in ("!", "&") else ""
    name = term[len(operator) :].strip()
    if not name:
        raise InventoryError(
            f"--limit {pattern!r} contains an empty pattern (an unset variable?); name a host "
            "or group glob, or leave --limit out to audit every host",
            path=inventory.source,
        )
    return operator + name


_COLON = re.compile(r":(?![^\[]*\])")
"""A ``:`` that separates terms: not one inside brackets (``web[1:2]``, a subscript)."""
_GLOB = frozenset(".?*[")
"""Characters that make Ansible match a pattern against host names even when it matched a
group (a host name with a dot, ``web*``)."""


def _matched(inventory: Inventory, term: str) -> set[str] | None:
    """The names of the hosts ``term`` selects, as Ansible's ``_evaluate_patterns`` does: a
    plain term that is a host's name is that host alone; otherwise the hosts of every group
    it matches (``all`` included: ``a*`` is every host) and, when it matched no group or
    holds a glob character or a dot, the hosts whose names it matches. (So with a host and
    a group both named ``db1``, ``db1`` is the host and ``!db1`` removes the group's hosts,
    even an empty group's none, as Ansible does.) None when it matches no host and no
    group: a typo, not an empty selection."""
    pattern = term.lstrip("!&")
    members = _members(inventory)
    names = {name for name, _ in members}
    if pattern == term and pattern in names:
        return {pattern}
    known = inventory.groups.union(*(groups for _, groups in members), {ALL})
    groups = {group for group in known if fnmatchcase(group, pattern)}
    if ALL in groups:
        return names
    found = {name for name, in_groups in members if groups.intersection(in_groups)}
    if not groups or _GLOB.intersection(pattern):
        hosts = {name for name in names if fnmatchcase(name, pattern)}
        if not groups and not hosts:
            return None
        found |= hosts
    return found
