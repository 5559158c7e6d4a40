"""Policy lint: what a valid policy may still get wrong.

Loading already rejects every schema error with its line. Lint adds warnings about rules and
waivers that are valid but cannot do what their author meant: a rule that repeats an earlier
one, a selector or match that can never hold, a waiver that has expired, and, given an
inventory, selectors that name no host or group of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from fnmatch import fnmatchcase

from fleetaudit.inventory.model import Inventory
from fleetaudit.policy.matchers import SocketMatch
from fleetaudit.policy.rules import AllowlistRule
from fleetaudit.policy.schema import Policy
from fleetaudit.policy.selectors import HostSelector

_IDENTITY = {"id", "severity", "description", "fix"}


@dataclass(frozen=True, slots=True)
class LintWarning:
    """One lint warning; ``loc`` is the path of the key in the policy file."""

    loc: tuple[str | int, ...]
    message: str


def lint(policy: Policy, today: date, inventory: Inventory | None = None) -> list[LintWarning]:
    """Every warning for ``policy``, in file order."""
    warnings: list[LintWarning] = []
    seen: dict[str, str] = {}
    for index, rule in enumerate(policy.rules):
        loc: tuple[str | int, ...] = ("rules", index)
        body = rule.model_dump_json(exclude=_IDENTITY)
        if body in seen:
            warnings.append(LintWarning(loc, f"rule {rule.id!r} repeats rule {seen[body]!r}"))
        seen.setdefault(body, rule.id)
        if _selects_nothing(rule.select):
            warnings.append(LintWarning((*loc, "select"), f"rule {rule.id!r} selects no host"))
        warnings.extend(
            LintWarning(loc, f"rule {rule.id!r}: {problem}") for problem in _match_problems(rule)
        )
        if inventory is not None:
            warnings.extend(_against_inventory(rule.id, rule.select, inventory, loc))
    for index, waiver in enumerate(policy.waivers):
        if today > waiver.expires:
            warnings.append(
                LintWarning(
                    ("waivers", index, "expires"),
                    f"waiver for {waiver.rule!r} expired on {waiver.expires}; "
                    "it no longer hides anything",
                )
            )
    return warnings


def _selects_nothing(select: HostSelector) -> bool:
    return any(value == () for value in (select.hosts, select.groups))


def _match_problems(rule: object) -> list[str]:
    problems = []
    if isinstance(rule, AllowlistRule):
        bodies = [entry.model_dump_json() for entry in rule.allow]
        for index, body in enumerate(bodies):
            if body in bodies[:index]:
                problems.append(f"allow entry {index + 1} repeats an earlier entry")
    match = getattr(rule, "match", None)
    if isinstance(match, SocketMatch) and match.port == ():
        problems.append("match has an empty port list, so it matches no socket")
    return problems


def _against_inventory(
    rule_id: str, select: HostSelector, inventory: Inventory, loc: tuple[str | int, ...]
) -> list[LintWarning]:
    groups = {group for host in inventory.hosts for group in host.groups}
    names = [host.name for host in inventory.hosts]
    warnings = [
        LintWarning(
            (*loc, "select", "groups"), f"rule {rule_id!r}: no group {group!r} in the inventory"
        )
        for group in select.groups or ()
        if group not in groups
    ]
    warnings.extend(
        LintWarning(
            (*loc, "select", "hosts"), f"rule {rule_id!r}: {glob!r} matches no inventory host"
        )
        for glob in select.hosts or ()
        if not any(fnmatchcase(name, glob) for name in names)
    )
    return warnings
