"""Ansible YAML static inventories (the ``yaml`` inventory plugin's format).

Top-level keys are groups (usually just ``all``); a group is a mapping with ``hosts:`` (host
pattern -> variables or null), ``vars:`` and ``children:`` (group name -> group). Host
patterns take ranges and ``:port`` as in INI. Any other key in a group is an error: unknown
keys are never silently ignored.
"""

from __future__ import annotations

from pathlib import Path

from fleetaudit.inventory.ansible_files import load_adjacent, parse, variables
from fleetaudit.inventory.ansible_ini import HINT
from fleetaudit.inventory.ansible_resolve import resolve
from fleetaudit.inventory.ansible_tree import Sourced, Tree, host_pattern
from fleetaudit.inventory.model import Inventory
from fleetaudit.yamlsource import Loc

GROUP_KEYS = frozenset({"hosts", "vars", "children"})
NATIVE_KEYS = frozenset({"defaults", "hosts", "groups"})
"""The top-level keys of a native inventory (``schema.InventoryFile``)."""


def load_ansible_yaml(text: str, path: Path) -> Inventory:
    """The resolved inventory of Ansible YAML ``text`` read from ``path``."""
    data, lines = parse(text, str(path), inventory=True)
    return from_data(data, lines, path)


def from_data(data: object, lines: dict[Loc, int], path: Path) -> Inventory:
    """Resolve already parsed Ansible YAML (format detection parses it first)."""
    tree = Tree(source=str(path), hint=HINT)
    # without all:, the file was taken for Ansible's only because it has no native key;
    # a native inventory with a misspelt top-level key reads so too, and is told so
    read_as = "" if isinstance(data, dict) and "all" in data else _READ_AS_ANSIBLE
    reader = _Reader(tree, lines, read_as)
    if not isinstance(data, dict):
        raise tree.fail("an Ansible YAML inventory is a mapping of groups (e.g. 'all:')", 1)
    for name, group in data.items():
        reader.group(str(name), group, (str(name),))
    load_adjacent(tree, path.parent)
    return resolve(tree)


_READ_AS_ANSIBLE = (
    " (read as an Ansible YAML inventory, of groups, since it has no top-level hosts:, "
    "groups: or defaults:)"
)


class _Reader:
    def __init__(self, tree: Tree, lines: dict[Loc, int], read_as: str) -> None:
        self.tree = tree
        self.lines = lines
        self.read_as = read_as

    def group(self, name: str, body: object, loc: Loc) -> None:
        line = self.lines.get(loc)
        self.tree.group(name, line)
        if body is None:
            return
        if not isinstance(body, dict):
            message = "a group is a mapping of hosts:, vars:, children:" + self.read_as
            raise self.tree.fail(message, line, name)
        for key in body:
            if key not in GROUP_KEYS:
                where = self.lines.get((*loc, str(key)))
                message = "unknown key (hosts, vars or children)" + self.read_as
                raise self.tree.fail(message, where, f"{name}.{key}")
        # In the order written, as Ansible's yaml plugin reads them: a host's variables set
        # under a child group and again under this group's hosts: are the later ones.
        for key, value in body.items():
            if key == "vars":
                group_vars = variables(value, self.lines, (*loc, "vars"), self.tree.source)
                self.tree.groups[name].vars.update(group_vars)
            elif key == "hosts":
                self._hosts(name, value, (*loc, "hosts"))
            else:
                self._children(name, value, loc)

    def _children(self, name: str, children: object, loc: Loc) -> None:
        if not children:  # null, or an empty mapping or name
            return
        if isinstance(children, str):  # `children: web`, which Ansible reads as {web: }
            children = self._one_name(children, (*loc, "children"))
        if not isinstance(children, dict):
            raise self.tree.fail("children: is a mapping of groups", self.lines.get(loc), name)
        for child, child_body in children.items():
            self.tree.add_child(name, str(child), self.lines.get((*loc, "children", str(child))))
            self.group(str(child), child_body, (*loc, "children", str(child)))

    def _hosts(self, group: str, hosts: object, loc: Loc) -> None:
        if hosts is None:
            return
        if isinstance(hosts, str):  # `hosts: web1`, which Ansible reads as {web1: }
            hosts = self._one_name(hosts, loc)
        if not isinstance(hosts, dict):
            raise self.tree.fail("hosts: is a mapping of host -> variables", self.lines.get(loc))
        for pattern, body in hosts.items():
            where = (*loc, str(pattern))
            line = self.lines.get(where)
            names, port = host_pattern(str(pattern), self.tree, line)
            host_vars = variables(body, self.lines, where, self.tree.source)
            for name in names:
                new = name not in self.tree.hosts
                merged = self.tree.add_host(group, name, line)
                if new and port is not None:
                    merged["ansible_port"] = Sourced(port, self.tree.source, line, name)
                merged.update(host_vars)

    def _one_name(self, name: str, loc: Loc) -> dict[str, None]:
        """A ``hosts:`` or ``children:`` given as one name, as the mapping Ansible makes of
        it; the name's line is the key's."""
        line = self.lines.get(loc)
        if line is not None:
            self.lines.setdefault((*loc, name), line)
        return {name: None}


def looks_like(data: object) -> bool:
    """Whether parsed YAML is an Ansible inventory rather than a native one: a top-level
    ``all:`` (which a native inventory cannot have), or no native top-level key at all
    (a native inventory has one). A group that is empty, has only ``vars:`` or a misspelt
    key is then Ansible's loader's to read or to name."""
    if not isinstance(data, dict) or not data:
        return False
    return "all" in data or not set(data) & NATIVE_KEYS
