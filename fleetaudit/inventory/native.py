"""Resolve the native YAML inventory into hosts: groups, children, and vars precedence.

Precedence, lowest first: ``defaults``; the vars of each group the host belongs to, parent
groups before their children and otherwise by name (so the result never depends on dict
order); settings given for the host inside a group's ``hosts:`` mapping; the host's own
entry under ``hosts:``.

Two groups whose ``hosts:`` mappings give one host different values for the same setting
are an error naming both lines (they are the same precedence level, so neither can win
without guessing), unless the host's own entry settles that setting. Group vars are
ordered (parents first, then by name), so among them the later group wins as documented.
"""

from __future__ import annotations

from difflib import get_close_matches
from typing import Any

from pydantic import ValidationError

from fleetaudit.errors import InventoryError
from fleetaudit.inventory.groups import with_ancestors
from fleetaudit.inventory.model import Host, Inventory, TransportKind
from fleetaudit.inventory.native_ranges import expand_ranges
from fleetaudit.inventory.schema import GroupEntry, HostEntry, HostVars, InventoryFile
from fleetaudit.inventory.validate import is_this_machine
from fleetaudit.validation import refuse_a_report, validation_error
from fleetaudit.yamlsource import Loc, YamlDocument, located_error

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
    refuse_a_report(doc, InventoryError, "an inventory")
    doc = expand_ranges(doc)
    try:
        spec = InventoryFile.model_validate(doc.data)
    except ValidationError as exc:
        raise validation_error(exc, doc, InventoryError) from None
    hosts, origins = _Resolver(spec, doc).resolve()
    if not hosts:
        raise InventoryError("the inventory defines no hosts", path=doc.path, line=1)
    return Inventory(source=doc.path, hosts=hosts, groups=frozenset(spec.groups), origins=origins)


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
        self._check_membership()

    def _check_membership(self) -> None:
        """Refuse a host's group that is not declared but looks like a declared one
        (``wbe`` beside ``web``): that group's vars would silently not apply. Groups that
        resemble none are tags (for --limit and policy selectors) and stay allowed;
        declaring one under ``groups:`` (``wbe: {}``) makes a near-miss name deliberate."""
        for name, entry in self._spec.hosts.items():
            for index, group in enumerate(entry.groups if entry else ()):
                close = get_close_matches(group, list(self._groups), n=1)
                if group not in self._groups and close:
                    self._fail(
                        f"group {group!r} is not declared under groups: (did you mean "
                        f"{close[0]!r}?); fix the name, or declare it ('{group}: {{}}') if it "
                        "is a separate group",
                        ("hosts", name, "groups", index),
                    )

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
        own = _set(entry, exclude={"groups", "labels"})
        for where, values in self._in_group_settings(name, groups, set(own)):
            self._layer(settings, origins, values, where)
        self._layer(settings, origins, entry, ("hosts", name), exclude={"groups", "labels"})
        labels.update(entry.labels)
        origins.setdefault("address", "host name")
        host = self._build(name, settings, groups, labels)
        return host, {field: origins.get(field, "default") for field in ORIGIN_FIELDS}

    def _in_group_settings(
        self, name: str, groups: list[str], settled: set[str]
    ) -> list[tuple[Loc, HostVars]]:
        """The settings groups' ``hosts:`` mappings give ``name``, after checking that no
        two of them disagree on a setting the host's own entry (``settled``) leaves open."""
        found: list[tuple[Loc, HostVars]] = []
        first: dict[str, tuple[Any, Loc]] = {}
        for group_name in groups:
            members = self._groups.get(group_name, GroupEntry()).hosts
            if not isinstance(members, dict):
                continue
            where: Loc = ("groups", group_name, "hosts", name)
            values = members.get(name) or HostVars()
            for field, value in _set(values).items():
                seen = first.setdefault(field, (value, where))
                if seen[0] != value and field not in settled:
                    self._conflict(name, field, seen, (value, where))
            found.append((where, values))
        return found

    def _conflict(
        self, name: str, field: str, first: tuple[Any, Loc], second: tuple[Any, Loc]
    ) -> None:
        """Refuse one setting given two values at the same precedence level."""
        line, _ = self._doc.position((*first[1], field))
        place = ".".join(str(part) for part in first[1])
        self._fail(
            f"host {name!r} gets {field} {_shown(second[0])} here and {_shown(first[0])} at "
            f"{self._doc.path}:{line} ({place}); both are group host settings of equal "
            f"precedence: keep one, or set {field} in the host's own entry under hosts:",
            (*second[1], field),
        )

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
            if not is_this_machine(settings["address"]):
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


def _shown(value: Any) -> str:
    """A setting's value as the file would spell it, for messages."""
    return repr(value.value if isinstance(value, TransportKind) else value)
