"""Resolve the native YAML inventory into hosts: groups, children, and vars precedence.

Precedence, lowest first: ``defaults``; the vars of each group the host belongs to, parent
groups before their children and otherwise by name (so the result never depends on dict
order); settings given for the host inside a group's ``hosts:`` mapping; the host's own
entry under ``hosts:``.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from fleetaudit.errors import InventoryError
from fleetaudit.inventory.groups import with_ancestors
from fleetaudit.inventory.model import Host, Inventory, TransportKind
from fleetaudit.inventory.native_ranges import expand_ranges
from fleetaudit.inventory.schema import GroupEntry, HostEntry, HostVars, InventoryFile
from fleetaudit.yamlsource import Loc, YamlDocument, located_error, validation_error

LOCAL_ADDRESSES = frozenset({"localhost", "127.0.0.1", "::1"})
ORIGIN_FIELDS = ("address", "port", "user", "key", "jump", "become", "transport")
"""The settings whose provenance ``Inventory.origins`` records."""


def load_native(doc: YamlDocument) -> Inventory:
    """The resolved inventory of a parsed native YAML file (host ranges expanded)."""
    if not isinstance(doc.data, dict):
        raise InventoryError(
            "an inventory is a mapping with 'hosts:' and/or 'groups:' (see "
            "inventories/example.yaml)",
            path=doc.path,
            line=1,
        )
    doc = expand_ranges(doc)
    try:
        spec = InventoryFile.model_validate(doc.data)
    except ValidationError as exc:
        raise validation_error(exc, doc, InventoryError) from None
    hosts, origins = _Resolver(spec, doc).resolve()
    if not hosts:
        raise InventoryError("the inventory defines no hosts", path=doc.path, line=1)
    return Inventory(source=doc.path, hosts=hosts, origins=origins)


class _Resolver:
    def __init__(self, spec: InventoryFile, doc: YamlDocument) -> None:
        self._spec = spec
        self._doc = doc
        self._groups = {name: group or GroupEntry() for name, group in spec.groups.items()}
        self._parents: dict[str, set[str]] = {}
        for name, group in self._groups.items():
            for index, child in enumerate(group.children):
                if child not in self._groups:
                    self._fail(
                        f"unknown child group {child!r}", ("groups", name, "children", index)
                    )
                self._parents.setdefault(child, set()).add(name)
        self._depth: dict[str, int] = {}
        for name in self._groups:
            self._depth_of(name, ())

    def resolve(self) -> tuple[tuple[Host, ...], dict[str, dict[str, str]]]:
        """Every host in file order, and where each of its settings came from."""
        names = dict.fromkeys(self._spec.hosts)
        for group in self._groups.values():
            names.update(dict.fromkeys(group.hosts))
        resolved = [self._host(name) for name in names]
        return tuple(host for host, _ in resolved), {host.name: o for host, o in resolved}

    def _host(self, name: str) -> tuple[Host, dict[str, str]]:
        entry = self._spec.hosts.get(name) or HostEntry()
        direct = list(entry.groups) + [g for g, grp in self._groups.items() if name in grp.hosts]
        groups = self._with_ancestors(direct)
        settings: dict[str, Any] = {}
        origins: dict[str, str] = {}
        labels: dict[str, str] = {}
        self._layer(settings, origins, self._spec.defaults, ("defaults",))
        for group_name in groups:
            group = self._groups.get(group_name) or GroupEntry()
            self._layer(settings, origins, group.vars, ("groups", group_name, "vars"))
            labels.update(group.labels)
        for group_name in groups:
            members = self._groups.get(group_name, GroupEntry()).hosts
            if isinstance(members, dict):
                where: Loc = ("groups", group_name, "hosts", name)
                self._layer(settings, origins, members.get(name) or HostVars(), where)
        self._layer(settings, origins, entry, ("hosts", name), exclude={"groups", "labels"})
        labels.update(entry.labels)
        origins.setdefault("address", "host name")
        host = self._build(name, settings, groups, labels)
        return host, {field: origins.get(field, "default") for field in ORIGIN_FIELDS}

    def _layer(
        self,
        settings: dict[str, Any],
        origins: dict[str, str],
        values: HostVars,
        loc: Loc,
        exclude: set[str] | None = None,
    ) -> None:
        """Apply one precedence level, remembering the line each value came from."""
        layer = _set(values, exclude)
        settings.update(layer)
        for field in layer:
            line, _ = self._doc.position((*loc, field))
            origins[field] = f"{self._doc.path}:{line}"

    def _build(
        self, name: str, settings: dict[str, Any], groups: list[str], labels: dict[str, str]
    ) -> Host:
        settings.setdefault("address", name)
        where: Loc = ("hosts", name) if name in self._spec.hosts else ("groups",)
        line, _ = self._doc.position(where)
        if settings.get("transport") is TransportKind.LOCAL:
            if settings["address"] not in LOCAL_ADDRESSES:
                self._fail(
                    "transport: local audits this machine; the host's address must be "
                    f"localhost, 127.0.0.1 or ::1, not {settings['address']!r}",
                    where,
                )
        return Host(name=name, groups=tuple(groups), labels=labels, source_line=line, **settings)

    def _with_ancestors(self, direct: list[str]) -> list[str]:
        found = with_ancestors(direct, self._parents)
        return sorted(found, key=lambda g: (self._depth.get(g, 0), g))

    def _depth_of(self, name: str, path: tuple[str, ...]) -> int:
        if name in path:
            cycle = " -> ".join((*path[path.index(name) :], name))
            self._fail(f"group children form a cycle: {cycle}", ("groups", name, "children"))
        if name not in self._depth:
            parents = self._parents.get(name, set())
            self._depth[name] = 1 + max(
                (self._depth_of(p, (*path, name)) for p in sorted(parents)), default=-1
            )
        return self._depth[name]

    def _fail(self, message: str, loc: Loc) -> None:
        raise located_error(self._doc, InventoryError, message, loc)


def _set(values: HostVars, exclude: set[str] | None = None) -> dict[str, Any]:
    """The settings ``values`` actually sets (unset ones must not override lower levels)."""
    return values.model_dump(exclude_none=True, exclude=exclude)
