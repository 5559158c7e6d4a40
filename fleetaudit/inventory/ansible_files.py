"""Read Ansible YAML files (inventory, ``group_vars/``, ``host_vars/``) without evaluating them.

Ansible's own tags are understood, not executed: ``!vault`` becomes a :class:`Vaulted`
marker (refused only if fleetaudit needs that value) and ``!unsafe`` plain text. Any other
tag is an error, as with ``yaml.SafeLoader``. Every mapping key keeps its line.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

from fleetaudit.errors import InventoryError, read_utf8
from fleetaudit.inventory.ansible_tree import Sourced, Tree, Vars
from fleetaudit.inventory.ansible_vars import Vaulted
from fleetaudit.yamlaliases import refuse_alias_bombs
from fleetaudit.yamlsource import (
    SAFE_LOADER,
    Loc,
    check_date,
    name_problem,
    tagged_value_error,
    yaml_error,
)

_EXTENSIONS = ("", ".yml", ".yaml", ".json")


# The project's safe loader (libyaml's when present) plus Ansible's ``!vault`` and
# ``!unsafe`` tags. Built with type() because the base class depends on the installation.
_Loader: Any = type("_Loader", (SAFE_LOADER,), {})
_Loader.add_constructor("!vault", lambda loader, node: Vaulted())
_Loader.add_constructor(
    "!unsafe",
    lambda loader, node: loader.construct_scalar(node) if isinstance(node, yaml.ScalarNode) else "",
)


def parse(text: str, source: str, *, inventory: bool = False) -> tuple[Any, dict[Loc, int]]:
    """The data of YAML ``text`` and the 1-based line of every mapping key. In an
    ``inventory``, the group and host names must be names: Ansible would make an unquoted
    ``yes:`` a host named ``True``."""
    if text.lstrip().startswith("$ANSIBLE_VAULT"):
        raise InventoryError(
            "the file is vault-encrypted and cannot be read; decrypt it with "
            "`ansible-inventory -i SRC --vault-password-file F --list > inv.json` and pass "
            "inv.json",
            path=source,
            line=1,
        )
    loader = _Loader(text)
    lines: dict[Loc, int] = {}
    try:
        # One pass: the node tree gives the lines, and the data is built from it.
        node = loader.get_single_node()
        if node is not None:
            refuse_alias_bombs(node, source, InventoryError)
            _walk(node, (), lines, source, inventory)
        data = None if node is None else loader.construct_document(node)
    except RecursionError:
        raise InventoryError("invalid YAML: nested too deeply", path=source) from None
    except yaml.YAMLError as exc:
        raise yaml_error(exc, text, source, InventoryError) from None
    except (ValueError, TypeError, OverflowError) as exc:
        raise tagged_value_error(exc, text, source, InventoryError) from None
    finally:
        loader.dispose()
    return data, lines


def _walk(node: yaml.Node, loc: Loc, out: dict[Loc, int], source: str, names: bool) -> None:
    out.setdefault(loc, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        of_names = names and _of_names(loc)
        for key_node, value_node in node.value:
            child = (*loc, str(key_node.value) if isinstance(key_node, yaml.ScalarNode) else "?")
            if child in out and isinstance(key_node, yaml.ScalarNode):
                _duplicate(key_node, child, out[child], source)
            if of_names and (problem := name_problem(key_node)) is not None:
                line, column = key_node.start_mark.line + 1, key_node.start_mark.column + 1
                raise InventoryError(problem, path=source, line=line, column=column)
            out[child] = key_node.start_mark.line + 1
            _walk(value_node, child, out, source, names)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk(item, (*loc, index), out, source, names)
    elif isinstance(node, yaml.ScalarNode):
        check_date(node, loc, source, InventoryError)


def _of_names(loc: Loc) -> bool:
    """Whether the mapping at ``loc`` of an inventory is keyed by group or host names: the
    top level (groups), and the ``hosts:`` and ``children:`` of a group. A variable that
    happens to be called ``hosts`` (``all.vars.hosts``) holds data, whose keys may be
    anything YAML allows."""
    return not loc or (loc[-1] in ("hosts", "children") and _is_group(loc[:-1]))


def _is_group(loc: Loc) -> bool:
    """Whether ``loc`` is a group: a top-level key, or a key of a group's ``children:``."""
    if len(loc) == 1:
        return True
    return len(loc) >= 3 and loc[-2] == "children" and _is_group(loc[:-2])


def _duplicate(key_node: yaml.ScalarNode, loc: Loc, first: int, source: str) -> None:
    """Refuse a key given twice in one mapping: YAML keeps only the last one and Ansible
    merely warns, so a host or variable defined twice would silently lose a definition."""
    raise InventoryError(
        f"duplicate key {key_node.value!r} (also on line {first}); YAML would silently keep "
        "only the last one: merge the two entries",
        path=source,
        line=key_node.start_mark.line + 1,
        column=key_node.start_mark.column + 1,
        key=".".join(str(part) for part in loc),
    )


def variables(data: object, lines: dict[Loc, int], loc: Loc, source: str) -> Vars:
    """The variables mapping at ``loc`` of a parsed file, each with its line."""
    if data is None:
        return {}
    if not isinstance(data, dict):
        line = lines.get(loc)
        raise InventoryError("variables must be a mapping", path=source, line=line)
    return {
        str(key): Sourced(value, source, lines.get((*loc, str(key))), str(key))
        for key, value in data.items()
    }


def load_adjacent(tree: Tree, directory: Path) -> None:
    """Add ``group_vars/`` and ``host_vars/`` next to the inventory file to ``tree``."""
    for name in tree.groups:
        tree.group_files[name] = _entity_vars(directory / "group_vars", name)
    for name in tree.hosts:
        tree.host_files[name] = _entity_vars(directory / "host_vars", name)


def _entity_vars(base: Path, name: str) -> Vars:
    """Ansible's ``host_group_vars`` lookup: the first of NAME (file or directory),
    NAME.yml, NAME.yaml, NAME.json; a directory's files merge in sorted order."""
    for extension in _EXTENSIONS:
        path = base / f"{name}{extension}"
        if path.is_dir():
            return _directory_vars(path)
        if path.is_file():
            return _file_vars(path)
    return {}


def _directory_vars(directory: Path) -> Vars:
    """The variables of a ``group_vars/NAME/`` directory, as Ansible finds them: its files
    in name order, those with no extension or a vars extension, and its subdirectories
    without an extension (``old.d/`` or ``backup.2023/`` are skipped, so must be here: read,
    their stale values overrode the live ones)."""
    merged: Vars = {}
    for path in sorted(directory.iterdir()):
        if path.name.startswith(".") or path.name.endswith("~"):
            continue
        extension = os.path.splitext(path.name)[1]
        if path.is_dir():
            if not extension:
                merged.update(_directory_vars(path))
        elif not extension or extension in _EXTENSIONS:
            merged.update(_file_vars(path))
    return merged


def _file_vars(path: Path) -> Vars:
    data, lines = parse(read_utf8(path, InventoryError), str(path))
    return variables(data, lines, (), str(path))
