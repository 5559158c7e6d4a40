"""What every Ansible source reads into: groups, hosts and variables with where they came from.

The INI, YAML and JSON loaders only parse; :mod:`.ansible_resolve` applies Ansible's group
tree and variable precedence to this one structure, so the three formats cannot drift apart.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field

from fleetaudit.errors import InventoryError
from fleetaudit.inventory import validate
from fleetaudit.inventory.ranges import RangeError, expand_pattern

ROOT = "all"
UNGROUPED = "ungrouped"


@dataclass(frozen=True)
class Sourced:
    """One variable value and the place that set it (for errors and ``origins``)."""

    value: object
    path: str
    line: int | None
    key: str

    @property
    def origin(self) -> str:
        """``file:line``, or just the file when the line is unknown."""
        return f"{self.path}:{self.line}" if self.line is not None else self.path


Vars = dict[str, Sourced]


@dataclass
class Group:
    """An Ansible group: its direct hosts, child groups and variables."""

    name: str
    hosts: list[str] = field(default_factory=list)
    children: list[str] = field(default_factory=list)
    vars: Vars = field(default_factory=dict)


@dataclass
class Tree:
    """A parsed Ansible inventory, before group membership and precedence are resolved.

    ``hint`` is how to get past a value fleetaudit refuses (a template or vault blob);
    ``group_files``/``host_files`` hold ``group_vars/`` and ``host_vars/``, which rank above
    the inventory file's own variables.
    """

    source: str
    hint: str
    groups: dict[str, Group] = field(default_factory=dict)
    hosts: dict[str, Vars] = field(default_factory=dict)
    host_lines: dict[str, int | None] = field(default_factory=dict)
    group_files: dict[str, Vars] = field(default_factory=dict)
    host_files: dict[str, Vars] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in (ROOT, UNGROUPED):  # Ansible defines these two in every inventory
            self.groups.setdefault(name, Group(name))

    def group(self, name: str, line: int | None) -> Group:
        """The group ``name``, created on first mention."""
        if name not in self.groups:
            self.check_name(name, line, "group")
            self.groups[name] = Group(name)
        return self.groups[name]

    def add_host(self, group: str, name: str, line: int | None) -> Vars:
        """Make ``name`` a direct member of ``group``; its host variables, to update."""
        self.check_name(name, line, "host")
        members = self.group(group, line).hosts
        if name not in members:
            members.append(name)
        self.host_lines.setdefault(name, line)
        return self.hosts.setdefault(name, {})

    def add_child(self, parent: str, child: str, line: int | None) -> None:
        """Make ``child`` a child group of ``parent``."""
        children = self.group(parent, line).children
        self.group(child, line)
        if child not in children:
            children.append(child)

    def check_name(self, name: str, line: int | None, what: str) -> None:
        """Refuse host and group names that are not plain names (see :mod:`.validate`)."""
        try:
            validate.name(name)
        except ValueError as exc:
            raise InventoryError(f"{what} name: {exc}", path=self.source, line=line) from None

    def fail(self, message: str, line: int | None, key: str | None = None) -> InventoryError:
        """An error in the inventory file itself, to raise."""
        return InventoryError(message, path=self.source, line=line, key=key)


def host_pattern(text: str, tree: Tree, line: int | None) -> tuple[list[str], int | None]:
    """The names and optional port of an Ansible host pattern such as ``web[01:03]:2222``."""
    if _is_ipv6(text):
        raise tree.fail(
            f"host {text!r}: an IPv6 address cannot be a host name here (names have no ':'); "
            f"name the host and give the address as ansible_host, e.g. 'myhost ansible_host="
            f"{text.lstrip('[').partition(']')[0]}'",
            line,
        )
    name, port = text, None
    head, sep, tail = text.rpartition(":")
    if sep and "]" not in tail:
        if not tail.isascii() or not tail.isdigit():
            raise tree.fail(f"{text!r}: after ':' comes a port number", line)
        name, port = head, int(tail)
    try:
        return expand_pattern(name), port
    except RangeError as exc:
        raise tree.fail(str(exc), line) from None


def _is_ipv6(text: str) -> bool:
    """True for an IPv6 address written as an Ansible host: ``::1``, ``[::1]``, ``[::1]:22``."""
    bracketed = re.fullmatch(r"\[([^\]]*)\](?::[0-9]+)?", text)
    try:
        return ipaddress.ip_address(bracketed.group(1) if bracketed else text).version == 6
    except ValueError:
        return False
