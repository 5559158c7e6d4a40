"""Ansible INI static inventories, read as Ansible's ``ini`` inventory plugin reads them.

Lines before any section are hosts of ``ungrouped``. ``[g]`` lists hosts (``name``,
``name:port``, ranges such as ``web[01:20:2]``, then ``key=value`` host variables, shell
quoted, ``#`` comments); ``[g:children]`` lists child groups; ``[g:vars]`` sets group variables
(``key = value``, the rest of the line). ``#`` and ``;`` start comment lines. Values are
typed as Ansible's literal parsing would type these connection settings (numbers, ``True``,
quoted strings) but never evaluated.
"""

from __future__ import annotations

import ast
import re
import shlex
from pathlib import Path

from fleetaudit.inventory.ansible_files import load_adjacent
from fleetaudit.inventory.ansible_resolve import resolve
from fleetaudit.inventory.ansible_tree import Sourced, Tree, host_pattern
from fleetaudit.inventory.model import Inventory

SECTION = re.compile(r"^\[([^:\]\s]+)(?::(\w+))?\]\s*(?:[#;].*)?$")
"""A ``[group]`` or ``[group:kind]`` line (also used to detect the format)."""
_GROUP_LINE = re.compile(r"^([^:\]\s]+)\s*(?:#.*)?$")
HINT = (
    "give the setting a literal value (ansible-inventory --list decrypts vault-encrypted "
    "vars files, not inline !vault values or templates: for those files, pass fleetaudit "
    "the JSON of `ansible-inventory -i SRC --vault-password-file F --list > inv.json`)"
)


def load_ini(text: str, path: Path) -> Inventory:
    """The resolved inventory of INI ``text`` read from ``path`` (whose directory holds
    ``group_vars/`` and ``host_vars/``)."""
    tree = Tree(source=str(path), hint=HINT)
    _Parser(tree).parse(text)
    load_adjacent(tree, path.parent)
    return resolve(tree)


class _Parser:
    def __init__(self, tree: Tree) -> None:
        self.tree = tree
        self.group = "ungrouped"
        self.kind = "hosts"
        self.pending: dict[str, int] = {}
        """Groups named in ``:children`` or ``:vars`` before being declared, with the line."""

    def parse(self, text: str) -> None:
        for number, raw in enumerate(text.splitlines(), start=1):
            line = raw.strip()
            if not line or line[0] in "#;":
                continue
            section = SECTION.match(line)
            if section is not None:
                self._section(section.group(1), section.group(2) or "hosts", number)
            elif line.startswith("[") and line.endswith("]"):
                raise self.tree.fail(f"invalid section {line!r} (no spaces allowed)", number)
            elif self.kind == "hosts":
                self._hosts(line, number)
            elif self.kind == "vars":
                self._variable(line, number)
            else:
                self._child(line, number)
        for group, number in self.pending.items():
            raise self.tree.fail(f"group {group!r} is used but never defined", number)

    def _section(self, group: str, kind: str, number: int) -> None:
        if kind not in ("hosts", "children", "vars"):
            raise self.tree.fail(f"section [{group}:{kind}]: unknown kind {kind!r}", number)
        if group not in self.tree.groups and kind == "vars":
            self.pending.setdefault(group, number)
        elif kind != "vars":
            self.pending.pop(group, None)
        self.tree.group(group, number)
        self.group, self.kind = group, kind

    def _hosts(self, line: str, number: int) -> None:
        try:
            tokens = shlex.split(line, comments=True)
        except ValueError as exc:
            raise self.tree.fail(f"cannot split host line: {exc}", number) from None
        names, port = host_pattern(tokens[0], self.tree, number)
        assignments: list[tuple[str, str]] = []
        for token in tokens[1:]:
            key, sep, value = token.partition("=")
            if not sep:
                raise self.tree.fail(f"expected key=value host variable, got {token!r}", number)
            assignments.append((key, value))
        for name in names:
            new = name not in self.tree.hosts
            variables = self.tree.add_host(self.group, name, number)
            if new and port is not None:
                variables["ansible_port"] = self._sourced(port, number, f"{name}:port")
            for key, value in assignments:
                variables[key] = self._sourced(typed(value), number, f"{name}.{key}")

    def _variable(self, line: str, number: int) -> None:
        key, sep, value = line.partition("=")
        if not sep:
            raise self.tree.fail(f"expected key=value in [{self.group}:vars]", number)
        key = key.strip()
        variables = self.tree.groups[self.group].vars
        variables[key] = self._sourced(typed(value.strip()), number, f"{self.group}:vars.{key}")

    def _child(self, line: str, number: int) -> None:
        match = _GROUP_LINE.match(line)
        if match is None:
            raise self.tree.fail(f"expected a group name, got {line!r}", number)
        child = match.group(1)
        if child not in self.tree.groups:
            self.pending.setdefault(child, number)
        self.tree.add_child(self.group, child, number)

    def _sourced(self, value: object, number: int, key: str) -> Sourced:
        return Sourced(value, self.tree.source, number, key)


def typed(value: str) -> object:
    """A value as Ansible's INI plugin types it: a Python literal where ``ast.literal_eval``
    reads one (``22``, ``0x1F``, ``True``, ``'quoted'``, ``None``: unset), else the text as
    written (``007``, which Python refuses, stays ``007``). Only literals, never evaluated
    code; a container (``[1, 2]``) stays text, as no variable fleetaudit reads takes one."""
    try:
        parsed = ast.literal_eval(value)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return value
    return parsed if parsed is None or isinstance(parsed, int | float | str) else value
