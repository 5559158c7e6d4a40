"""Read a policy file into a :class:`~fleetaudit.policy.schema.Policy`, or fail with the
file, line and key of its problems: every empty value, then every broken rule, then every
broken waiver (a later kind is checked once the earlier ones are right).

YAML and pydantic errors are translated into :class:`~fleetaudit.errors.PolicyError` here
and nowhere else. Rules are validated one at a time with the class their ``kind:`` names,
so an error inside a rule is reported at its own key rather than at the list.

A key written without a value (``port:``, ``scope: ~``, ``proto: null``) is an error: the
models read a missing condition as "no condition", so an empty one would silently widen an
allowlist entry or a matcher to every socket. No key of the format is nullable.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

from pydantic import ValidationError

from fleetaudit.errors import InputError, PolicyError, together
from fleetaudit.policy.extends import base_path, check_chain, merge_rules, read_base
from fleetaudit.policy.rules import RULE_KINDS, Rule
from fleetaudit.policy.schema import FORMAT_VERSION, Policy, PolicyDocument
from fleetaudit.policy.waivers import Waiver
from fleetaudit.validation import refuse_a_report, validation_error
from fleetaudit.yamlsource import (
    MISSPELT_REQUIRED,
    Loc,
    YamlDocument,
    load_yaml,
    located_error,
    misspelling_of,
    parse_yaml,
)

DEFAULT_POLICY_SOURCE = "built-in fleetaudit/data/default.yaml"
"""How reports name the packaged default policy."""


def load_policy(path: str | os.PathLike[str], _chain: tuple[str, ...] = ()) -> Policy:
    """Read and validate the policy file at ``path`` (and the policies it extends)."""
    path = Path(path)
    doc = load_yaml(path, PolicyError)
    return _build(doc, default_name=path.stem, chain=(*_chain, str(path.resolve())))


def load_default_policy() -> Policy:
    """The default policy shipped inside the package."""
    return parse_policy(_default_text(), DEFAULT_POLICY_SOURCE)


def policy_document(source: str) -> YamlDocument:
    """The YAML of a policy's ``source`` (a file, or the built-in default), to find lines in."""
    if source == DEFAULT_POLICY_SOURCE:
        return parse_yaml(_default_text(), source, PolicyError)
    return load_yaml(Path(source), PolicyError)


def _default_text() -> str:
    return resources.files("fleetaudit").joinpath("data/default.yaml").read_text("utf-8")


def parse_policy(text: str, source: str) -> Policy:
    """Validate policy YAML ``text`` read from ``source`` (a path or a label)."""
    return _build(parse_yaml(text, source, PolicyError), default_name=Path(source).stem)


def _build(doc: YamlDocument, default_name: str, chain: tuple[str, ...] = ()) -> Policy:
    refuse_a_report(doc, PolicyError, "a policy")
    _refuse_empty_values(doc)
    header = _header(doc)
    own = _every_one(header.rules, lambda index, data: _rule(doc, index, data))
    _check_unique_ids(doc, own)
    base = _base(doc, header, chain)
    if base is None and header.remove:
        line, _ = doc.position(("remove",))
        raise PolicyError(
            "remove: needs extends: (there is no base policy to remove from)",
            path=doc.path,
            line=line,
            key="remove",
        )
    rules = own if base is None else merge_rules(doc, base, own, header.remove)
    known_ids = {rule.id for rule in rules}
    waivers = _every_one(header.waivers, lambda index, data: _waiver(doc, index, data, known_ids))
    inherited = base or _NO_BASE
    kept = _kept_waivers(inherited, known_ids)
    return Policy(
        name=header.name or default_name,
        source=doc.path,
        description=header.description,
        rules=tuple(rules),
        waivers=(*(waiver for waiver, _ in kept), *waivers),
        rule_origins=_rule_origins(doc, rules, own, inherited),
        waiver_origins=(
            *(origin for _, origin in kept),
            *((doc.path, index) for index in range(len(waivers))),
        ),
        sources=(doc.path, *inherited.sources),
    )


_NO_BASE = Policy(name="", source="", rules=())

_Made = TypeVar("_Made")


def _every_one(items: Sequence[Any], make: Callable[[int, Any], _Made]) -> list[_Made]:
    """``make`` of each item, by index; when some fail, one error carrying every item's
    problems, so that one ``policy lint`` names every broken rule."""
    made: list[_Made] = []
    problems: list[InputError] = []
    for index, item in enumerate(items):
        try:
            made.append(make(index, item))
        except PolicyError as exc:
            problems.append(exc)
    if problems:
        raise together(problems)
    return made


def _kept_waivers(base: Policy, known_ids: set[str]) -> list[tuple[Waiver, tuple[str, int]]]:
    """The base's waivers with where each is written, but for rules this policy removed:
    those go with their rule."""
    pairs = zip(base.waivers, base.waiver_origins, strict=True)
    return [(waiver, origin) for waiver, origin in pairs if waiver.rule in known_ids]


def _rule_origins(
    doc: YamlDocument, rules: list[Rule], own: list[Rule], base: Policy
) -> tuple[tuple[str, int], ...]:
    """Where each rule of the merged policy is written: in this file for its own rules
    (replacements of base rules included), in the base's file for what it inherits."""
    origins = dict(zip((rule.id for rule in base.rules), base.rule_origins, strict=True))
    origins.update({rule.id: (doc.path, index) for index, rule in enumerate(own)})
    return tuple(origins[rule.id] for rule in rules)


def _base(doc: YamlDocument, header: PolicyDocument, chain: tuple[str, ...]) -> Policy | None:
    if header.extends is None:
        return None
    target = base_path(doc, header.extends)
    check_chain(doc, chain, target)
    if target is None:
        return load_default_policy()
    base = parse_yaml(read_base(doc, header.extends, target), str(target), PolicyError)
    return _build(base, default_name=target.stem, chain=(*chain, str(target)))


def _refuse_empty_values(doc: YamlDocument) -> None:
    """Refuse every key or list item written without a value, in file order.

    The walk is iterative and visits each container once, so YAML aliases cannot make it
    loop or blow up."""
    stack: list[tuple[Loc, object]] = [((), doc.data)]
    seen: set[int] = set()
    empty: list[InputError] = []
    while stack:
        loc, value = stack.pop()
        if value is None and loc:
            message = (
                "empty value: give it one, or remove the key (an empty condition would "
                "silently match everything)"
            )
            empty.append(located_error(doc, PolicyError, message, loc))
        if not isinstance(value, dict | list) or id(value) in seen:
            continue
        seen.add(id(value))
        items = value.items() if isinstance(value, dict) else enumerate(value)
        children = [((*loc, key), child) for key, child in items if isinstance(key, str | int)]
        stack.extend(reversed(children))
    if empty:
        raise together(empty)


def _header(doc: YamlDocument) -> PolicyDocument:
    if not isinstance(doc.data, dict):
        raise PolicyError(
            "a policy is a mapping with version, name and rules", path=doc.path, line=1
        )
    if "version" not in doc.data:
        if typo := misspelling_of("version", doc.data, PolicyDocument.model_fields):
            message = MISSPELT_REQUIRED.format("version")
            raise located_error(doc, PolicyError, message, (typo,))
        raise PolicyError(
            f"required key is missing (write `version: {FORMAT_VERSION}` first)",
            path=doc.path,
            line=1,
            key="version",
        )
    _check_version(doc, doc.data["version"])
    try:
        return PolicyDocument.model_validate(doc.data)
    except ValidationError as exc:
        raise validation_error(exc, doc, PolicyError) from exc


def _check_version(doc: YamlDocument, version: object) -> None:
    if version != FORMAT_VERSION or isinstance(version, bool):
        message = (
            f"unsupported policy format version {version!r}; "
            f"this fleetaudit reads version {FORMAT_VERSION}"
        )
        raise located_error(doc, PolicyError, message, ("version",))


_RULE_KEYS = frozenset(key for cls in RULE_KINDS.values() for key in cls.model_fields)
"""Every key some kind of rule has: none of them is a misspelt ``kind``."""


def _rule(doc: YamlDocument, index: int, data: dict[str, Any]) -> Rule:
    loc: tuple[str | int, ...] = ("rules", index)
    kind = data.get("kind")
    cls = RULE_KINDS.get(kind) if isinstance(kind, str) else None
    if kind is None and (typo := misspelling_of("kind", data, _RULE_KEYS)):
        raise located_error(doc, PolicyError, MISSPELT_REQUIRED.format("kind"), (*loc, typo))
    if cls is None:
        known = ", ".join(RULE_KINDS)
        what = "required key is missing" if kind is None else f"unknown rule kind {kind!r}"
        raise located_error(doc, PolicyError, f"{what} (one of: {known})", (*loc, "kind"))
    try:
        return cls.model_validate(data)
    except ValidationError as exc:
        raise validation_error(exc, doc, PolicyError, prefix=loc) from exc


def _waiver(doc: YamlDocument, index: int, data: object, known_ids: set[str]) -> Waiver:
    loc: tuple[str | int, ...] = ("waivers", index)
    try:
        waiver = Waiver.model_validate(data)
    except ValidationError as exc:
        raise validation_error(exc, doc, PolicyError, prefix=loc) from exc
    if waiver.rule not in known_ids:
        message = f"waiver names rule {waiver.rule!r}, which this policy does not define"
        raise located_error(doc, PolicyError, message, (*loc, "rule"))
    return waiver


def _check_unique_ids(doc: YamlDocument, rules: list[Rule]) -> None:
    first_index: dict[str, int] = {}
    duplicates: list[InputError] = []
    for index, rule in enumerate(rules):
        if rule.id in first_index:
            first_line, _ = doc.position(("rules", first_index[rule.id], "id"))
            message = f"duplicate rule id {rule.id!r} (first used on line {first_line})"
            duplicates.append(located_error(doc, PolicyError, message, ("rules", index, "id")))
        first_index.setdefault(rule.id, index)
    if duplicates:
        raise together(duplicates)
