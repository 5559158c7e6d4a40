"""``extends:``: a policy built on a base policy, overriding, adding and removing rules.

::

    version: 1
    extends: default            # "default" (the built-in policy) or a file, relative to this one
    remove: [no-tftp]           # base rules to drop, by id
    rules:
      - id: mysql-loopback      # an id the base has: replaces that rule, in the base's place
        ...
      - id: payments-allowlist  # a new id: added after the base's rules
        ...

Waivers of the base apply too. A chain of ``extends`` may be a few files long; a cycle is an
error. Every id in ``remove`` must exist in the base, so a renamed base rule cannot
silently stay in force.

``extends`` takes a path, never a policy name (only ``default`` is one): a base that cannot
be read is an error at the ``extends:`` line of the policy that names it, which says what
the value resolved to and, for a missing file, where the shipped policies are.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from fleetaudit.errors import PolicyError
from fleetaudit.policy.rules import Rule
from fleetaudit.policy.schema import Policy
from fleetaudit.yamlsource import YamlDocument, located_error

BUILTIN_DEFAULT = "default"
MAX_DEPTH = 8

# The policies/ directory of a source checkout (or an editable install): the shipped example
# policies live there, not inside the package (only default.yaml is packaged).
_SHIPPED_DIR = Path(__file__).resolve().parents[2] / "policies"


def base_path(doc: YamlDocument, extends: str) -> Path | None:
    """The base policy's file, or None for the built-in default."""
    if extends == BUILTIN_DEFAULT:
        return None
    return (Path(doc.path).parent / extends).resolve()


def read_base(doc: YamlDocument, extends: str, target: Path) -> str:
    """The text of the base policy file, or an error at this policy's ``extends:`` line
    (the base file cannot say who asked for it)."""
    try:
        return target.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        reason = "not UTF-8 text"
    except OSError as exc:
        reason = exc.strerror or str(exc)
    message = f"cannot read {extends!r} (resolved to {target}): {reason}"
    if not target.exists():
        message += _path_hint(doc, extends)
    raise located_error(doc, PolicyError, message, ("extends",))


def _path_hint(doc: YamlDocument, extends: str) -> str:
    """Say that ``extends`` is a relative path, and where the shipped policies are, with
    the path to write when ``extends`` names one of them."""
    hint = (
        f"; extends takes a file path relative to this policy file, or {BUILTIN_DEFAULT!r} "
        "for the built-in default"
    )
    shipped = sorted(_SHIPPED_DIR.glob("*.yaml")) if _SHIPPED_DIR.is_dir() else []
    for path in shipped:
        if extends in (path.stem, path.name):
            relative = os.path.relpath(path, Path(doc.path).resolve().parent)
            return hint + f" ({extends!r} is a shipped policy: write `extends: {relative}`)"
    if shipped:
        hint += "; shipped policies: " + ", ".join(str(path) for path in shipped)
    return hint


def check_chain(doc: YamlDocument, chain: Sequence[str], target: Path | None) -> None:
    """Refuse a cycle or an overly long chain of ``extends``."""
    where = doc.position(("extends",))
    if target is not None and str(target) in chain:
        message = "extends forms a cycle: " + " -> ".join([*chain, str(target)])
        raise located_error(doc, PolicyError, message, ("extends",))
    if len(chain) >= MAX_DEPTH:
        raise PolicyError(
            f"extends chain longer than {MAX_DEPTH} files",
            path=doc.path,
            line=where[0],
            key="extends",
        )


def merge_rules(
    doc: YamlDocument, base: Policy, own: Sequence[Rule], remove: Sequence[str]
) -> list[Rule]:
    """The base's rules with ``remove`` dropped and ``own`` replacing or adding by id."""
    base_ids = {rule.id for rule in base.rules}
    own_ids = {rule.id for rule in own}
    for index, rule_id in enumerate(remove):
        message = None
        if rule_id not in base_ids:
            message = f"remove: the base policy {base.name!r} has no rule {rule_id!r}"
        elif rule_id in own_ids:
            # both dropped and redefined: the new rule was dropped with the base's
            message = (
                f"remove: {rule_id!r} is also defined under rules:, which replaces the base's "
                "rule of that id in its place; remove it from one of the two"
            )
        if message is not None:
            raise located_error(doc, PolicyError, message, ("remove", index))
    overrides = {rule.id: rule for rule in own}
    merged = [overrides.get(rule.id, rule) for rule in base.rules if rule.id not in remove]
    merged.extend(rule for rule in own if rule.id not in base_ids)
    return merged
