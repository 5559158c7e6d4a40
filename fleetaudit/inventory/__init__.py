"""Inventory stage: read an inventory file into resolved, validated hosts.

:func:`load_inventory` is the entry point; the native YAML format lives in :mod:`.native`
(one module per format as more are added), value checks in :mod:`.validate`.
"""

from __future__ import annotations

from pathlib import Path

from fleetaudit.errors import InventoryError
from fleetaudit.inventory.model import Host, Inventory, TransportKind
from fleetaudit.inventory.native import load_native
from fleetaudit.inventory.select import select_hosts
from fleetaudit.yamlsource import load_yaml


def load_inventory(path: Path) -> Inventory:
    """Load and resolve ``path``; every problem is an :class:`InventoryError` naming the
    file, line and key."""
    return load_native(load_yaml(path, InventoryError))


__all__ = ["Host", "Inventory", "TransportKind", "load_inventory", "select_hosts"]
