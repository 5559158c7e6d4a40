"""Resolve a parsed Ansible inventory the way Ansible does: group tree, then precedence.

Every group without a parent is a child of ``all``; a host in no group but ``all`` is in
``ungrouped``. A host's variables merge, lowest first, as Ansible's ``VariableManager`` with
the default ``VARIABLE_PRECEDENCE`` does: ``all`` then the host's other groups from the
inventory file; ``group_vars/all`` then the other groups' ``group_vars/`` files; the host's
own variables in the inventory file; ``host_vars/``. Within each step groups are ordered by
depth below ``all`` (parents before children), then by ``ansible_group_priority`` (as set
in the inventory source, default 1; Ansible ignores it in ``group_vars/``), then by name, as
Ansible's ``sort_groups`` does.
"""

from __future__ import annotations

from typing import Any

from fleetaudit.errors import InventoryError
from fleetaudit.inventory.ansible_tree import ROOT, UNGROUPED, Tree, Vars
from fleetaudit.inventory.ansible_vars import refuse_unevaluated, settings_of
from fleetaudit.inventory.groups import with_ancestors
from fleetaudit.inventory.model import Host, Inventory, RefusedHost, TransportKind
from fleetaudit.inventory.native import ORIGIN_FIELDS
from fleetaudit.inventory.validate import is_this_machine


def resolve(tree: Tree) -> Inventory:
    """The resolved inventory of ``tree``; every problem names the file and line."""
    _attach_to_root(tree)
    depth = _depths(tree)
    parents: dict[str, set[str]] = {}
    for group in tree.groups.values():
        for child in group.children:
            parents.setdefault(child, set()).add(group.name)
    direct: dict[str, set[str]] = {}
    for group in tree.groups.values():
        for member in group.hosts:
            direct.setdefault(member, set()).add(group.name)
    priority = {name: _priority(tree, name) for name in tree.groups}
    hosts: list[Host] = []
    refused: list[RefusedHost] = []
    origins: dict[str, dict[str, str]] = {}
    everywhere: set[str] | None = None
    for name in tree.hosts:
        groups = sorted(
            with_ancestors(direct[name], parents), key=lambda g: (depth[g], priority[g], g)
        )
        variables = _merged(tree, name, groups)
        everywhere = set(variables) if everywhere is None else everywhere & variables.keys()
        try:
            host, origins[name] = _host(tree, name, groups, variables)
        except InventoryError as exc:  # refused when selected: see load_inventory
            shown = tuple(g for g in groups if g != ROOT)
            refused.append(RefusedHost(name=name, groups=shown, **_where(exc)))
            continue
        hosts.append(host)
    if not hosts and not refused:
        raise InventoryError("the inventory defines no hosts", path=tree.source, line=1)
    defined = frozenset(name for name in tree.groups if name != ROOT)
    return Inventory(
        source=tree.source,
        hosts=tuple(hosts),
        refused=tuple(refused),
        variables_everywhere=frozenset(everywhere or ()),
        groups=defined,
        origins=origins,
    )


def _where(error: InventoryError) -> dict[str, Any]:
    """The fields of a :class:`RefusedHost` that say what ``error`` says."""
    return {
        "message": error.message,
        "path": error.path,
        "line": error.line,
        "column": error.column,
        "key": error.key,
    }


def _attach_to_root(tree: Tree) -> None:
    root = tree.group(ROOT, None)
    tree.group(UNGROUPED, None)
    children = {child for group in tree.groups.values() for child in group.children}
    for name in tree.groups:
        if name != ROOT and name not in children:
            root.children.append(name)
    for host in list(root.hosts):
        member_elsewhere = any(
            host in g.hosts for g in tree.groups.values() if g.name not in (ROOT, UNGROUPED)
        )
        if not member_elsewhere:
            tree.add_host(UNGROUPED, host, tree.host_lines.get(host))
        root.hosts.remove(host)
    ungrouped = tree.groups[UNGROUPED]
    in_groups = {
        h for g in tree.groups.values() if g.name not in (ROOT, UNGROUPED) for h in g.hosts
    }
    ungrouped.hosts[:] = [h for h in ungrouped.hosts if h not in in_groups]


def _depths(tree: Tree) -> dict[str, int]:
    """Each group's depth below ``all`` (its longest path from it); a cycle is an error."""
    depth: dict[str, int] = {}

    def visit(name: str, level: int, path: tuple[str, ...]) -> None:
        if name in path:
            cycle = " -> ".join((*path[path.index(name) :], name))
            raise InventoryError(f"group children form a cycle: {cycle}", path=tree.source)
        if depth.get(name, -1) >= level and name != ROOT:
            return
        depth[name] = max(depth.get(name, 0), level)
        for child in tree.groups[name].children:
            visit(child, level + 1, (*path, name))

    visit(ROOT, 0, ())
    for name in tree.groups:
        if name not in depth:
            raise InventoryError(f"group children form a cycle through {name!r}", path=tree.source)
    return depth


_PRIORITY = "ansible_group_priority"


def _priority(tree: Tree, group: str) -> int:
    """The group's ``ansible_group_priority`` from the inventory source (default 1): among
    groups of one depth, a higher one merges later and wins."""
    sourced = tree.groups[group].vars.get(_PRIORITY)
    if sourced is None or sourced.value is None:
        return 1
    refuse_unevaluated(sourced, tree.hint)
    value = sourced.value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise InventoryError(
            f"{value!r} is not an integer", path=sourced.path, line=sourced.line,
            key=f"{group}.{_PRIORITY}",
        )  # fmt: skip
    return value


def _merged(tree: Tree, name: str, groups: list[str]) -> Vars:
    others = [g for g in groups if g != ROOT]
    layers: list[Vars] = [tree.groups[ROOT].vars]
    layers += [tree.groups[g].vars for g in others]
    layers += [tree.group_files.get(ROOT, {})]
    layers += [tree.group_files.get(g, {}) for g in others]
    layers += [tree.hosts[name], tree.host_files.get(name, {})]
    merged: Vars = {}
    for layer in layers:
        merged.update(layer)
    return merged


def _host(tree: Tree, name: str, groups: list[str], variables: Vars) -> tuple[Host, dict[str, str]]:
    settings, origins = settings_of(variables, tree.hint)
    settings.setdefault("address", name)
    origins.setdefault("address", "host name")
    if settings.get("transport") is TransportKind.LOCAL and (
        not is_this_machine(settings["address"])
    ):
        raise InventoryError(
            "ansible_connection=local audits this machine; the host's address must be "
            f"localhost, 127.0.0.1 or ::1, not {settings['address']!r}",
            path=tree.source,
            line=tree.host_lines.get(name),
            key=name,
        )
    shown = tuple(g for g in groups if g != ROOT)
    line = tree.host_lines.get(name)
    host = Host(name=name, groups=shown, source_line=line, **settings)
    return host, {field: origins.get(field, "default") for field in ORIGIN_FIELDS}
