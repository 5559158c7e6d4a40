"""``fleetaudit inventory list|check``: see how an inventory resolves, without connecting."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from fleetaudit.cli.console import say
from fleetaudit.cli.errors import user_errors

if TYPE_CHECKING:
    from fleetaudit.inventory import Host, Inventory

inventory_app = typer.Typer(
    name="inventory",
    help="Show and check inventories (fleetaudit YAML, Ansible INI/YAML, ansible-inventory JSON).",
    no_args_is_help=True,
)

InventoryArgument = Annotated[
    Path,
    typer.Argument(
        help="Inventory file: fleetaudit YAML, Ansible INI or YAML, or `ansible-inventory "
        "--list` JSON ('-' reads that JSON from stdin).",
        metavar="INVENTORY",
    ),
]


class ListFormat(StrEnum):
    """Output formats of ``inventory list``."""

    TABLE = "table"
    JSON = "json"


@inventory_app.command("list")
def list_hosts(
    inventory: InventoryArgument,
    format: Annotated[ListFormat, typer.Option("--format", "-f", help="Output format.")] = (
        ListFormat.TABLE
    ),
    limit: Annotated[
        list[str] | None,
        typer.Option("--limit", "-l", metavar="PATTERN", help="Only matching hosts or groups."),
    ] = None,
) -> None:
    """Print every resolved host: address, port, user, groups, and where each value came
    from (file:line, group_vars/..., default)."""
    with user_errors():
        from fleetaudit.inventory import load_inventory, select_hosts

        resolved = load_inventory(inventory)
        hosts = select_hosts(resolved, limit or [])
        if format is ListFormat.JSON:
            print(json.dumps([_as_json(host, resolved) for host in hosts], indent=2))
        else:
            print(_table(hosts, resolved))


@inventory_app.command()
def check(inventory: InventoryArgument) -> None:
    """Validate an inventory without connecting anywhere: exit 0 if valid, 2 with the file,
    line and key of the first problem otherwise."""
    with user_errors():
        from fleetaudit.inventory import load_inventory

        resolved = load_inventory(inventory)
        groups = {group for host in resolved.hosts for group in host.groups}
        say(f"{resolved.source}: valid; {len(resolved.hosts)} hosts, {len(groups)} groups")


def _as_json(host: Host, inventory: Inventory) -> dict[str, object]:
    return {
        **host.model_dump(mode="json", exclude={"labels", "source_line"}),
        "labels": host.labels,
        "origins": inventory.origins.get(host.name, {}),
    }


def _table(hosts: tuple[Host, ...], inventory: Inventory) -> str:
    """One row per host; each value followed by its origin, relative to the inventory's
    directory (``prod.ini:12``, ``group_vars/db.yml:3``) to keep rows readable."""
    from tabulate import tabulate

    from fleetaudit.report.escape import terminal_safe

    base = str(Path(inventory.source).parent) + "/"
    rows = []
    for host in hosts:
        origin = {
            field: where.removeprefix(base)
            for field, where in inventory.origins.get(host.name, {}).items()
        }
        row = [
            host.name,
            _with_origin(host.address, origin.get("address")),
            _with_origin(str(host.port or "22 (ssh default)"), origin.get("port")),
            _with_origin(host.user or "-", origin.get("user")),
            _with_origin("yes" if host.become else "no", origin.get("become")),
            _with_origin(host.jump or "-", origin.get("jump")),
            ",".join(host.groups) or "-",
        ]
        rows.append([terminal_safe(cell) for cell in row])
    headers = ["HOST", "ADDRESS", "PORT", "USER", "BECOME", "JUMP", "GROUPS"]
    return tabulate(rows, headers=headers, tablefmt="plain", disable_numparse=True)


def _with_origin(value: str, origin: str | None) -> str:
    return f"{value} ({origin})" if origin and origin not in ("default", "host name") else value
