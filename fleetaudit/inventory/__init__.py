"""Inventory stage: read an inventory file into resolved, validated hosts.

:func:`load_inventory` is the entry point. It recognises the format (see :func:`detect`) and
hands the text to one module per source: :mod:`.native` (fleetaudit's YAML),
:mod:`.ansible_ini`, :mod:`.ansible_yaml` and :mod:`.ansible_json`. Value checks live in
:mod:`.validate`, host ranges in :mod:`.ranges`.
"""

from __future__ import annotations

import json
import os
import re
import sys
from enum import StrEnum
from pathlib import Path

from fleetaudit.errors import InventoryError, read_utf8, together
from fleetaudit.inventory.ansible_cfg import unapplied_settings
from fleetaudit.inventory.ansible_files import parse
from fleetaudit.inventory.ansible_ini import SECTION, load_ini
from fleetaudit.inventory.ansible_json import load_ansible_json
from fleetaudit.inventory.ansible_yaml import load_ansible_yaml, looks_like
from fleetaudit.inventory.model import Host, Inventory, TransportKind
from fleetaudit.inventory.native import load_native
from fleetaudit.inventory.ranges import expand_pattern
from fleetaudit.inventory.select import select_hosts
from fleetaudit.yamlsource import parse_yaml

STDIN = "-"
"""The inventory path that means "ansible-inventory JSON on standard input"."""


class InventoryFormat(StrEnum):
    """The inventory sources fleetaudit reads."""

    NATIVE = "native"
    ANSIBLE_INI = "ansible-ini"
    ANSIBLE_YAML = "ansible-yaml"
    ANSIBLE_JSON = "ansible-json"


def load_inventory(path: str | os.PathLike[str], *, refuse_later: bool = False) -> Inventory:
    """Load and resolve ``path`` (``-``: JSON on stdin); every problem is an
    :class:`InventoryError` naming the file, line and key. With ``refuse_later``, a host of
    an Ansible inventory that cannot be audited as written (see
    :class:`~fleetaudit.inventory.model.RefusedHost`) is left in ``refused``, to be refused
    by :func:`select_hosts` when selected, so that ``--limit`` can leave it out."""
    loaded = _load(Path(path))
    if loaded.refused and not refuse_later:
        raise loaded.refused[0].error()
    return loaded


def load_inventory_names(path: str | os.PathLike[str]) -> Inventory:
    """The inventory for commands that use only its host names and groups (``check``,
    ``policy lint|explain``, ``merge``): a host that cannot be audited as written is in
    it too, by name and groups (its address unknown: its name stands for it), instead of
    refusing the whole file."""
    loaded = load_inventory(path, refuse_later=True)
    named = tuple(
        Host(name=r.name, address=r.name, groups=r.groups, source_line=r.line)
        for r in loaded.refused
    )
    return loaded.model_copy(update={"hosts": loaded.hosts + named, "refused": ()})


def _load(path: Path) -> Inventory:
    if str(path) == STDIN:
        if sys.stdin is None:  # started with stdin closed (`<&-`)
            raise InventoryError("cannot read the inventory from stdin: it is closed", path=path)
        return _with_ansible_notes(load_ansible_json(sys.stdin.read(), "<stdin>"))
    text = _read(path)
    _refuse_what_only_ansible_runs(path, text)
    kind = detect(path, text)
    try:
        loaded = _LOADERS[kind](text, path)
    except InventoryError as exc:
        if kind is not InventoryFormat.NATIVE or not _looks_like_ini(text):
            raise
        hinted = InventoryError(
            f"{exc.message} (read as fleetaudit's YAML by its name; if it is an Ansible INI "
            "inventory, name it *.ini)",
            path=exc.path, line=exc.line, column=exc.column, key=exc.key,
        )  # fmt: skip
        raise together([hinted, *exc.also]) from None
    return loaded if kind is InventoryFormat.NATIVE else _with_ansible_notes(loaded)


def _with_ansible_notes(inventory: Inventory) -> Inventory:
    """An Ansible inventory, with a warning for each login setting Ansible would take from
    ansible.cfg or the environment (see :mod:`.ansible_cfg`)."""
    notes = unapplied_settings(covered=inventory.variables_everywhere)
    return inventory.model_copy(update={"notes": tuple(notes)}) if notes else inventory


def _looks_like_ini(text: str) -> bool:
    """Whether ``text`` reads as an Ansible INI inventory: a ``[group]`` line, or only host
    lines (a name, then ``key=value`` words), as in the classic ``hosts`` file."""
    lines = [line.strip() for line in text.splitlines()]
    lines = [line for line in lines if line and not line.startswith(("#", ";"))]
    if any(SECTION.match(line) for line in lines):
        return True
    return bool(lines) and all(_HOST_LINE.fullmatch(line) for line in lines)


_HOST_LINE = re.compile(r"[^\s:=#{}\[\]]+(?::[0-9]+)?(?:\s+[A-Za-z_][A-Za-z0-9_]*=\S+)*")
"""A host line of an INI inventory: ``web1``, ``web1:2222``, ``web1 ansible_port=2222``."""


def detect(path: Path, text: str) -> InventoryFormat:
    """The format of ``text`` read from ``path``, by extension and content: ``.ini`` (or no
    extension and ``[group]`` lines) is INI; JSON with ``_meta`` is ansible-inventory output;
    YAML that looks like Ansible's (see :func:`.ansible_yaml.looks_like`) is Ansible YAML;
    anything else is native."""
    suffix = path.suffix.lower()
    lines = (line.strip() for line in text.splitlines())
    if suffix == ".ini" or (suffix == "" and any(SECTION.match(line) for line in lines)):
        return InventoryFormat.ANSIBLE_INI
    if suffix == ".json" or text.lstrip().startswith("{"):
        if '"_meta"' in text and _is_ansible_json(text):
            return InventoryFormat.ANSIBLE_JSON
    try:
        # without the check of names: an Ansible inventory with a host named `yes:` must
        # be refused as one (by its loader), not read as a native one
        data, _ = parse(text, str(path))
    except InventoryError:
        return InventoryFormat.NATIVE  # the native loader reports the YAML error
    return InventoryFormat.ANSIBLE_YAML if looks_like(data) else InventoryFormat.NATIVE


def _is_ansible_json(text: str) -> bool:
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return False
    return isinstance(data, dict) and "_meta" in data


_PLUGIN = re.compile(r"^plugin:[ \t]*(['\"]?)([A-Za-z_][\w.]*)\1[ \t]*(?:#.*)?$", re.MULTILINE)
_SAVE_JSON = "save what Ansible makes of it: `ansible-inventory -i {} --list > inv.json`"


def _refuse_what_only_ansible_runs(path: Path, text: str) -> None:
    """An inventory script or plugin config: only Ansible can run it, and read as a file
    it gave errors about groups or YAML that did not say so."""
    if text.startswith("#!"):
        raise InventoryError(
            "an inventory script (it starts with #!), which only Ansible runs; "
            + _SAVE_JSON.format(path),
            path=path,
            line=1,
        )
    if (plugin := _PLUGIN.search(text)) is not None:
        line = text.count("\n", 0, plugin.start()) + 1
        raise InventoryError(
            f"an inventory plugin's config (plugin: {plugin[2]}), which only Ansible runs; "
            + _SAVE_JSON.format(path),
            path=path,
            line=line,
        )


def _read(path: Path) -> str:
    if "," in path.name and not path.exists():
        raise InventoryError(
            "no such file; Ansible's inline host list (`-i 'web1,web2,'`) is not read: "
            "write the hosts in an inventory file",
            path=path,
        )
    if path.is_dir():
        raise InventoryError(
            "is a directory: give the inventory file (an Ansible inventory directory: pass "
            "the JSON of `ansible-inventory -i DIR --list > inv.json`)",
            path=path,
        )
    return read_utf8(path, InventoryError)


def _native(text: str, path: Path) -> Inventory:
    return load_native(parse_yaml(text, str(path), InventoryError))


def _json(text: str, path: Path) -> Inventory:
    return load_ansible_json(text, str(path))


_LOADERS = {
    InventoryFormat.NATIVE: _native,
    InventoryFormat.ANSIBLE_INI: load_ini,
    InventoryFormat.ANSIBLE_YAML: load_ansible_yaml,
    InventoryFormat.ANSIBLE_JSON: _json,
}

__all__ = [
    "Host",
    "Inventory",
    "InventoryFormat",
    "TransportKind",
    "detect",
    "expand_pattern",
    "load_inventory",
    "load_inventory_names",
    "select_hosts",
]
