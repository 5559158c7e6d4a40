"""Policy lint: what a valid policy may still get wrong.

Loading already rejects every schema error with its line. Lint adds warnings about rules and
waivers that are valid but cannot do what their author meant: a policy without rules (a
gate that can never fail) or without a coverage rule (what the audit could not see then
passes silently), a rule that repeats an earlier one, a selector or match that can
never hold (:mod:`fleetaudit.policy.lint_kinds`: a match asking for sockets its kind never
judges, a process match no port stands in for), a host glob fnmatch reads literally because
it is malformed, a waiver that has expired, what ``extends:`` changes silently
(:mod:`fleetaudit.policy.lint_extends`), and, given an inventory, selectors that select no
host of it or whose ``not:`` names nothing (:mod:`fleetaudit.policy.lint_inventory`).

"Can never hold" is decided only where that is cheap and certain (an empty list, a ``not:``
implied by the conditions of its own match); lint is no satisfiability solver, so its
silence is not proof that a match holds for something.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import date

from fleetaudit.inventory.model import Inventory
from fleetaudit.model.host import HostSnapshot
from fleetaudit.policy.lint_extends import base_policy, extends_problems
from fleetaudit.policy.lint_inventory import as_snapshots, selector_problems
from fleetaudit.policy.lint_kinds import kind_problems, waiver_problem
from fleetaudit.policy.loader import DEFAULT_POLICY_SOURCE
from fleetaudit.policy.matchers import ProcessMatch, SocketMatch
from fleetaudit.policy.rules import AllowlistRule, CoverageRule, Rule
from fleetaudit.policy.schema import Policy
from fleetaudit.policy.selectors import HostSelector
from fleetaudit.policy.waivers import Waiver
from fleetaudit.yamlsource import Loc

_IDENTITY = {"id", "severity", "description", "fix"}
_LIST_KEYS = ("port", "proto", "family", "state", "scope", "uid")
"""Matcher keys whose value is a list: an empty one matches no socket."""


@dataclass(frozen=True, slots=True)
class LintWarning:
    """One lint warning; ``loc`` is the path of the key in the policy file ``source`` (the
    file that writes it: a base file for what the policy inherits through ``extends:``)."""

    loc: Loc
    message: str
    source: str = ""
    rule: str | None = None
    """The rule a rule's own problem is about (its message starts ``rule 'ID': ``)."""


def lint(policy: Policy, today: date, inventory: Inventory | None = None) -> list[LintWarning]:
    """Every warning for ``policy``, in file order."""
    hosts = None if inventory is None else as_snapshots(inventory)
    warnings: list[LintWarning] = []
    warnings.extend(_policy_warnings(policy))
    seen: dict[str, str] = {}
    for index, rule in enumerate(policy.rules):
        loc: Loc = ("rules", index)
        body = rule.model_dump_json(exclude=_IDENTITY)
        if body in seen:
            warnings.append(LintWarning(loc, f"rule {rule.id!r} repeats rule {seen[body]!r}"))
        seen.setdefault(body, rule.id)
        problems = [
            *_selector_problems(rule.select, (*loc, "select")),
            *_rule_problems(rule, loc),
            *kind_problems(rule, loc),
        ]
        if hosts is not None:
            problems.extend(selector_problems(rule.select, hosts, (*loc, "select")))
        warnings.extend(
            LintWarning(at, f"rule {rule.id!r}: {text}", rule=rule.id) for at, text in problems
        )
    rules = {rule.id: rule for rule in policy.rules}
    for index, waiver in enumerate(policy.waivers):
        warnings.extend(_waiver_warnings(waiver, ("waivers", index), today, rules, hosts))
    warnings.extend(_extends_warnings(policy, inventory))
    return _built_in_merged([_in_its_file(policy, warning) for warning in warnings])


def _built_in_merged(warnings: list[LintWarning]) -> list[LintWarning]:
    """The built-in policy's warnings that say the same of several of its rules, as one
    naming them all, with how to change them: its datastore rules all exempt group
    'cache', and an inventory without one got five warnings about a file the user cannot
    edit (QA)."""
    merged: list[LintWarning] = []
    first_of: dict[str, tuple[int, list[str]]] = {}
    for warning in warnings:
        if warning.source != DEFAULT_POLICY_SOURCE or warning.rule is None:
            merged.append(warning)
            continue
        said = warning.message.removeprefix(f"rule {warning.rule!r}: ")
        place, rules = first_of.setdefault(said, (len(merged), []))
        rules.append(warning.rule)
        names = ", ".join(repr(rule) for rule in rules)
        message = (
            f"{'rules' if len(rules) > 1 else 'rule'} {names}: {said} (the built-in "
            "policy's: to change a rule of it, write one with its id in yours)"
        )
        if place == len(merged):
            merged.append(replace(warning, message=message))
        else:
            merged[place] = replace(merged[place], message=message)
    return merged


def _extends_warnings(policy: Policy, inventory: Inventory | None) -> Iterator[LintWarning]:
    """What the policy's own rules change in the base it extends without saying so."""
    base = base_policy(policy)
    if base is None or len(policy.rule_origins) != len(policy.rules):
        return
    for at, text in extends_problems(policy, base, inventory):
        yield LintWarning(at, text)


def _policy_warnings(policy: Policy) -> Iterator[LintWarning]:
    """Warnings about the policy as a whole: no rules at all, or no coverage rule (then an
    unprivileged audit, a skipped host-key check or unread lines pass without a word)."""
    if not policy.rules:
        yield LintWarning(
            ("rules",),
            "the policy has no rules, so every host it judges is clean "
            "(a gate that can never fail)",
        )
    elif not any(isinstance(rule, CoverageRule) for rule in policy.rules):
        yield LintWarning(
            ("rules",),
            "the policy has no coverage rule, so hosts the audit could not see completely "
            "(owner-unknown sockets, no host-key check, unread lines) pass silently; "
            "add a rule of kind coverage, as the default policy has",
        )


def _in_its_file(policy: Policy, warning: LintWarning) -> LintWarning:
    """The warning at the file and key that write what it is about."""
    origins = {"rules": policy.rule_origins, "waivers": policy.waiver_origins}
    section, *rest = warning.loc
    listed = origins.get(str(section), ())
    if rest and isinstance(rest[0], int) and rest[0] < len(listed):
        source, index = listed[rest[0]]
        return replace(warning, loc=(section, index, *rest[1:]), source=source)
    return replace(warning, source=policy.source)


def _rule_problems(rule: Rule, loc: Loc) -> Iterator[tuple[Loc, str]]:
    if isinstance(rule, AllowlistRule):
        bodies = [entry.model_dump_json() for entry in rule.allow]
        for index, entry in enumerate(rule.allow):
            if bodies[index] in bodies[:index]:
                yield (*loc, "allow", index), f"allow entry {index + 1} repeats an earlier entry"
            for at, text in _match_problems(entry, (*loc, "allow", index)):
                yield at, f"allow entry {index + 1}: {text}"
    match = getattr(rule, "match", None)
    if isinstance(match, SocketMatch):
        yield from _match_problems(match, (*loc, "match"))


def _waiver_warnings(
    waiver: Waiver,
    loc: Loc,
    today: date,
    rules: Mapping[str, Rule],
    hosts: tuple[HostSnapshot, ...] | None,
) -> Iterator[LintWarning]:
    if today > waiver.expires:
        yield LintWarning(
            (*loc, "expires"),
            f"waiver for {waiver.rule!r} expired on {waiver.expires}; it no longer hides anything",
        )
    problems = list(_selector_problems(waiver.select, (*loc, "select")))
    if hosts is not None:
        problems.extend(selector_problems(waiver.select, hosts, (*loc, "select")))
    if waiver.match is not None:
        problems.extend(_match_problems(waiver.match, (*loc, "match")))
        rule = rules.get(waiver.rule)
        problem = None if rule is None else waiver_problem(rule, waiver.match)
        if problem:
            problems.append(((*loc, "match"), problem))
    problems.extend(_gap_problems(waiver, rules.get(waiver.rule), loc))
    for at, text in problems:
        yield LintWarning(at, f"waiver for {waiver.rule!r}: {text}")


def _gap_problems(waiver: Waiver, rule: Rule | None, loc: Loc) -> Iterator[tuple[Loc, str]]:
    """A ``gap:`` on a rule that reports none, and a coverage waiver without one, which
    also hides unread lines and unverified host keys (QA: waived for hosts audited
    without root, it hid a high "line could not be read" finding)."""
    if rule is None:
        return
    if waiver.gap is not None and not isinstance(rule, CoverageRule):
        yield (
            (*loc, "gap"),
            f"only a coverage rule reports gaps: a {rule.kind} rule's findings are never covered",
        )
    elif waiver.gap is None and isinstance(rule, CoverageRule):
        yield (
            loc,
            (
                "it covers every gap the coverage rule reports, unread lines and unverified host "
                "keys too; name the ones it accepts (gap: unprivileged)"
            ),
        )


def _selector_problems(select: HostSelector, loc: Loc) -> Iterator[tuple[Loc, str]]:
    for key in ("hosts", "groups"):
        if getattr(select, key) == ():
            yield (*loc, key), f"select has an empty {key} list, so it selects no host"
    for index, glob in enumerate(select.hosts or ()):
        problem = glob_problem(glob)
        if problem:
            yield (*loc, "hosts", index), f"host glob {glob!r} {problem}"
    if select.not_ is not None:
        yield from _selector_problems(select.not_, (*loc, "not"))


def glob_problem(glob: str) -> str | None:
    """Why a host glob is probably a typo, or None. fnmatch reads a ``[`` that no ``]``
    closes as a literal character, so ``db[1`` matches only a host named ``db[1``."""
    if not glob:
        return "is empty, so it matches no host"
    index = 0
    while index < len(glob):
        if glob[index] == "[":
            close = _class_end(glob, index)
            if close is None:
                return "has a '[' that no ']' closes, so fnmatch reads it literally"
            index = close
        index += 1
    return None


def _class_end(glob: str, start: int) -> int | None:
    """The index of the ``]`` closing the character class opened at ``start`` (fnmatch
    rules: a ``!`` and then a ``]`` right after the ``[`` are part of the class)."""
    index = start + 1
    if index < len(glob) and glob[index] == "!":
        index += 1
    if index < len(glob) and glob[index] == "]":
        index += 1
    close = glob.find("]", index)
    return None if close < 0 else close


def _match_problems(match: SocketMatch, loc: Loc) -> Iterator[tuple[Loc, str]]:
    for key in _LIST_KEYS:
        if getattr(match, key) == ():
            yield (*loc, key), f"match has an empty {key} list, so it matches no socket"
    if match.not_ is not None and implies(match, match.not_):
        yield (
            (*loc, "not"),
            "match can never hold: every socket it picks also matches its own `not:`",
        )


def implies(match: SocketMatch, other: SocketMatch) -> bool:
    """True when every socket ``match`` picks is certainly picked by ``other`` too: each
    condition of ``other`` is one of ``match`` or wider. Conservative: False when unsure
    (``other`` has a ``not:`` of its own, or a condition ``match`` lacks)."""
    if other.not_ is not None:
        return False
    if other.port is not None and (
        match.port is None or not all(_range_within(r, other.port) for r in match.port)
    ):
        return False
    for key in ("proto", "family", "state", "scope", "uid"):
        wide = getattr(other, key)
        narrow = getattr(match, key)
        if wide is not None and (narrow is None or not set(narrow) <= set(wide)):
            return False
    return other.process is None or (
        match.process is not None and _process_within(match.process, other.process)
    )


def _range_within(span: tuple[int, int], ranges: tuple[tuple[int, int], ...]) -> bool:
    return any(low <= span[0] and span[1] <= high for low, high in ranges)


def _process_within(narrow: ProcessMatch, wide: ProcessMatch) -> bool:
    same_regex = narrow.regex is None or (
        wide.regex is not None
        and (narrow.regex.pattern, narrow.regex.flags) == (wide.regex.pattern, wide.regex.flags)
    )
    return same_regex and set(narrow.names) <= set(wide.names)
