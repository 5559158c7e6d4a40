"""``ansible-inventory -i SRC --list`` output: the way in for dynamic inventories, vault and
inventory plugins, which only Ansible itself can run.

The document maps group names to ``{"hosts": [...], "children": [...], "vars": {...}}`` (or,
as inventory scripts may print, to a plain list of hosts) and ``_meta.hostvars`` maps each
host to its variables, already merged by Ansible. Values are still never evaluated:
``ansible-inventory --list`` does not render templates, so one that reaches a setting
fleetaudit uses is refused. Lines are looked up only to report an error.
"""

from __future__ import annotations

import json
from typing import Any

from fleetaudit.errors import InventoryError
from fleetaudit.inventory.ansible_resolve import resolve
from fleetaudit.inventory.ansible_tree import Sourced, Tree, Vars
from fleetaudit.inventory.ansible_vars import Vaulted
from fleetaudit.inventory.model import Inventory
from fleetaudit.yamlsource import YamlDocument, parse_yaml

HINT = "ansible-inventory does not render these; give the setting a literal value"


def load_ansible_json(text: str, source: str) -> Inventory:
    """The resolved inventory of ``ansible-inventory --list`` JSON ``text`` from ``source``."""
    data = parse_json(text, source)
    keys: dict[str, tuple[str, ...]] = {}
    lines = _KeyLines(text, source, keys)
    try:
        inventory = resolve(_tree(data, source, keys))
    except InventoryError as exc:
        if exc.line is not None or (place := lines.of(exc.key)) is None:
            raise
        line, column = place
        raise InventoryError(
            exc.message, path=source, line=line, column=column, key=exc.key
        ) from None
    if not inventory.refused:
        return inventory
    refused = tuple(
        refusal
        if refusal.line is not None or (place := lines.of(refusal.key)) is None
        else refusal.model_copy(update={"path": source, "line": place[0], "column": place[1]})
        for refusal in inventory.refused
    )
    return inventory.model_copy(update={"refused": refused})


class _KeyLines:
    """The line and column of a variable's key in the JSON text, for an error that names
    the key: the text is parsed for positions only when the first such error asks."""

    def __init__(self, text: str, source: str, keys: dict[str, tuple[str, ...]]) -> None:
        self._text, self._source, self._keys = text, source, keys
        self._document: YamlDocument | None = None

    def of(self, key: str | None) -> tuple[int | None, int | None] | None:
        if key is None or key not in self._keys:
            return None
        if self._document is None:
            self._document = parse_yaml(self._text, self._source, InventoryError)
        return self._document.position(self._keys[key])


def parse_json(text: str, source: str) -> Any:
    """Parse JSON ``text``; a syntax error names the line."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InventoryError(f"invalid JSON: {exc.msg}", path=source, line=exc.lineno) from None
    except RecursionError:
        raise InventoryError("invalid JSON: nested too deeply", path=source) from None


def _tree(data: Any, source: str, keys: dict[str, tuple[str, ...]]) -> Tree:
    tree = Tree(source=source, hint=HINT)
    if not isinstance(data, dict):
        raise tree.fail("ansible-inventory JSON is an object of groups and _meta", 1)
    meta = data.get("_meta") or {}
    hostvars = meta.get("hostvars") if isinstance(meta, dict) else None
    for name, body in data.items():
        if name != "_meta":
            _group(tree, str(name), body, keys)
    for name, variables in (hostvars or {}).items():
        if name in tree.hosts:
            tree.hosts[name].update(_vars(variables, ("_meta", "hostvars", name), source, keys))
    return tree


def _group(tree: Tree, name: str, body: Any, keys: dict[str, tuple[str, ...]]) -> None:
    tree.group(name, None)
    if isinstance(body, list):
        body = {"hosts": body}
    if not isinstance(body, dict):
        raise tree.fail("a group is an object with hosts, children and vars", None, name)
    for host in _names(tree, body.get("hosts"), name, "hosts"):
        tree.add_host(name, host, None)
    for child in _names(tree, body.get("children"), name, "children"):
        tree.add_child(name, child, None)
    tree.groups[name].vars.update(_vars(body.get("vars"), (name, "vars"), tree.source, keys))


def _names(tree: Tree, value: Any, group: str, field: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise tree.fail(f"{field} must be a list of names", None, f"{group}.{field}")
    return value


def _vars(variables: Any, loc: tuple[str, ...], source: str, keys: dict[str, Any]) -> Vars:
    if variables is None:
        return {}
    if not isinstance(variables, dict):
        raise InventoryError("variables must be an object", path=source, key=".".join(loc))
    out: Vars = {}
    for name, value in variables.items():
        key = ".".join((*loc, name))
        keys[key] = (*loc, name)
        out[name] = Sourced(_plain(value), source, None, key)
    return out


def _plain(value: Any) -> Any:
    """Undo ``AnsibleJSONEncoder``: vaulted and unsafe values are wrapped in objects."""
    if isinstance(value, dict) and "__ansible_vault" in value:
        return Vaulted()
    if isinstance(value, dict) and "__ansible_unsafe" in value:
        return value["__ansible_unsafe"]
    return value
