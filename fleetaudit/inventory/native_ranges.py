"""Expand host ranges in a parsed native inventory before it is validated.

Ranges may appear as keys under ``hosts:``, and as items or keys of a group's ``hosts:``.
Each expanded name inherits the line of its pattern, so every later error about one of the
hosts still points at the line the user wrote.
"""

from __future__ import annotations

from typing import Any, NoReturn

from fleetaudit.errors import InventoryError
from fleetaudit.inventory.ranges import RangeError, expand_pattern
from fleetaudit.yamlsource import Loc, YamlDocument


def expand_ranges(doc: YamlDocument) -> YamlDocument:
    """``doc`` with every host range replaced by the names it stands for."""
    if not isinstance(doc.data, dict):
        return doc
    expander = _Expander(doc)
    data = dict(doc.data)
    if isinstance(data.get("hosts"), dict):
        data["hosts"] = expander.mapping(data["hosts"], ("hosts",))
    groups = data.get("groups")
    if isinstance(groups, dict):
        data["groups"] = {name: expander.group(name, group) for name, group in groups.items()}
    return YamlDocument(doc.path, data, expander.positions)


class _Expander:
    def __init__(self, doc: YamlDocument) -> None:
        self._doc = doc
        self.positions = dict(doc.positions)

    def group(self, name: object, group: object) -> object:
        if not isinstance(group, dict) or not isinstance(name, str):
            return group
        loc: Loc = ("groups", name, "hosts")
        members = group.get("hosts")
        if isinstance(members, dict):
            return {**group, "hosts": self.mapping(members, loc)}
        if isinstance(members, list):
            return {**group, "hosts": self.sequence(members, loc)}
        return group

    def mapping(self, entries: dict[Any, Any], loc: Loc) -> dict[Any, Any]:
        out: dict[Any, Any] = {}
        for key, value in entries.items():
            names = self._names(key, (*loc, key))
            subtree = self._subtree((*loc, key)) if names != [key] else []
            for name in names:
                if name in out:
                    self._fail(f"host {name!r} is listed twice", (*loc, key))
                out[name] = value
                for suffix, position in subtree:
                    self.positions[(*loc, name, *suffix)] = position
        return out

    def sequence(self, items: list[Any], loc: Loc) -> list[Any]:
        out: list[Any] = []
        for index, item in enumerate(items):
            position = self._doc.positions.get((*loc, index))
            for name in self._names(item, (*loc, index)):
                if position is not None:
                    self.positions[(*loc, len(out))] = position
                out.append(name)
        return out

    def _names(self, value: object, loc: Loc) -> list[Any]:
        if not isinstance(value, str) or "[" not in value:
            return [value]
        try:
            return list(expand_pattern(value))
        except RangeError as exc:
            self._fail(str(exc), loc)

    def _subtree(self, old: Loc) -> list[tuple[Loc, tuple[int, int]]]:
        """The positions at and under ``old``, relative to it (copied to each expanded name)."""
        return [
            (loc[len(old) :], position)
            for loc, position in self._doc.positions.items()
            if loc[: len(old)] == old
        ]

    def _fail(self, message: str, loc: Loc) -> NoReturn:
        line, column = self._doc.position(loc)
        key = ".".join(str(part) for part in loc)
        raise InventoryError(message, path=self._doc.path, line=line, column=column, key=key)
