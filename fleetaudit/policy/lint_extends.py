"""Lint for ``extends:``: what a policy's own rules change in its base without saying so.

Two cases: a rule whose id replaces a base rule of another kind (the base's check is gone,
not refined), and an allowlist of the policy that selects hosts an allowlist of the base
still in force selects too. Allowlists that select one host are unioned, so the policy's
list, usually meant to be stricter, is widened by every entry of the base's. Not said when
the policy's allowlist replaces a base allowlist (same id) that already shared those hosts
with that base list: the base was built on that union, and the replacement keeps it.
"""

from __future__ import annotations

from collections.abc import Iterator
from fnmatch import fnmatchcase
from pathlib import Path

from fleetaudit.inventory.model import Inventory
from fleetaudit.model.host import HostSnapshot
from fleetaudit.policy.extends import base_path
from fleetaudit.policy.lint_inventory import as_snapshots, selected
from fleetaudit.policy.loader import (
    DEFAULT_POLICY_SOURCE,
    load_default_policy,
    load_policy,
    policy_document,
)
from fleetaudit.policy.rules import AllowlistRule, Rule
from fleetaudit.policy.schema import Policy
from fleetaudit.policy.selectors import HostSelector
from fleetaudit.yamlsource import Loc

_GLOB_CHARS = frozenset("*?[")


def base_policy(policy: Policy) -> Policy | None:
    """The policy ``policy`` extends, read again from its file; None when it extends none
    (or was not read from a file, so there is no ``extends:`` to follow)."""
    if policy.source != DEFAULT_POLICY_SOURCE and not Path(policy.source).is_file():
        return None
    doc = policy_document(policy.source)
    extends = doc.data.get("extends") if isinstance(doc.data, dict) else None
    if not isinstance(extends, str):
        return None
    target = base_path(doc, extends)
    return load_default_policy() if target is None else load_policy(target)


def extends_problems(
    policy: Policy, base: Policy, inventory: Inventory | None
) -> Iterator[tuple[Loc, str]]:
    """Warnings about the rules ``policy`` writes itself, given the ``base`` it extends."""
    hosts = None if inventory is None else as_snapshots(inventory)
    base_rules = {rule.id: rule for rule in base.rules}
    inherited = [
        rule
        for rule, (source, _) in zip(policy.rules, policy.rule_origins, strict=True)
        if source != policy.source and isinstance(rule, AllowlistRule)
    ]
    for index, (rule, (source, _)) in enumerate(
        zip(policy.rules, policy.rule_origins, strict=True)
    ):
        if source != policy.source:
            continue
        replaced = base_rules.get(rule.id)
        if replaced is not None and replaced.kind != rule.kind:
            yield ("rules", index, "kind"), _other_kind(rule, replaced)
        if isinstance(rule, AllowlistRule):
            for wide in inherited:
                if _widens(rule, wide, replaced, hosts):
                    yield ("rules", index), _unioned(rule, wide)


def _other_kind(rule: Rule, replaced: Rule) -> str:
    return (
        f"rule {rule.id!r} (kind {rule.kind}) replaces the base policy's rule of the same id, "
        f"of kind {replaced.kind}, so the base's check is gone rather than refined; give "
        f"this rule a new id (and add {rule.id!r} to `remove:` if dropping the base rule is "
        "meant)"
    )


def _unioned(rule: Rule, wide: Rule) -> str:
    return (
        f"allowlist {rule.id!r} shares hosts with the base policy's allowlist {wide.id!r}; "
        "allowlists that select one host are unioned, so every listener "
        f"{wide.id!r} allows passes there too; to judge those hosts by {rule.id!r} alone, "
        f"add {wide.id!r} to `remove:`"
    )


def _widens(
    rule: Rule, wide: Rule, replaced: Rule | None, hosts: tuple[HostSnapshot, ...] | None
) -> bool:
    """True when ``wide`` shares hosts with ``rule`` and the base did not already pair it
    with the allowlist ``rule`` replaces."""
    if not _share(rule.select, wide.select, hosts):
        return False
    was_paired = isinstance(replaced, AllowlistRule) and _share(replaced.select, wide.select, hosts)
    return not was_paired


def _share(one: HostSelector, other: HostSelector, hosts: tuple[HostSnapshot, ...] | None) -> bool:
    """Whether two selectors select a host in common: on the inventory's hosts when there
    is one; without, unless their conditions on the same key cannot both hold."""
    if hosts is not None:
        return bool(selected(one, hosts) & selected(other, hosts))
    return not _apart(one, other)


def _apart(one: HostSelector, other: HostSelector) -> bool:
    """True when no host can satisfy both selectors' own conditions (``not:`` aside): no
    group in common, a label given two values, or host names that cannot match both."""
    if one.groups is not None and other.groups is not None:
        if not set(one.groups) & set(other.groups):
            return True
    if one.labels is not None and other.labels is not None:
        if any(other.labels.get(key, value) != value for key, value in one.labels.items()):
            return True
    if one.hosts is not None and other.hosts is not None:
        return not any(_may_meet(a, b) for a in one.hosts for b in other.hosts)
    return False


def _may_meet(one: str, other: str) -> bool:
    """Whether two host globs may match one name: only two plain names are told apart."""
    if _GLOB_CHARS & set(one) and _GLOB_CHARS & set(other):
        return True
    return fnmatchcase(one, other) or fnmatchcase(other, one)
