"""``fleetaudit inventory list|check``: see how an inventory resolves, without connecting."""

from __future__ import annotations

import getpass
import json
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NamedTuple

import typer

from fleetaudit.cli.console import inventory_warnings, say
from fleetaudit.cli.errors import user_errors
from fleetaudit.cli.output import write_report

if TYPE_CHECKING:
    from fleetaudit.inventory import Host, Inventory
    from fleetaudit.transport.sshconfig import SshConfigView

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
    format: Annotated[
        ListFormat, typer.Option("--format", "-f", help="Output format.", case_sensitive=False)
    ] = (ListFormat.TABLE),
    limit: Annotated[
        list[str] | None,
        typer.Option("--limit", "-l", metavar="PATTERN", help="Only matching hosts or groups."),
    ] = None,
    ssh_config: Annotated[
        Path | None,
        typer.Option(
            metavar="FILE",
            help="OpenSSH client config to resolve hosts with instead of ~/.ssh/config, as "
            "`run --ssh-config` would.",
            dir_okay=False,
        ),
    ] = None,
) -> None:
    """Print every resolved host: address, port, user, groups, and where each value came
    from (file:line, group_vars/..., default). Values the inventory leaves unset are shown
    as ~/.ssh/config (or --ssh-config) resolves them for `run`, marked "(ssh_config)": the
    address, port, user, key files (IdentityFile), and the jump host or ProxyCommand. A
    broken ssh_config is an error (exit 2), as it is for `run` and OpenSSH."""
    with user_errors():
        import asyncio  # imported by the commands that use it: slow to import

        from fleetaudit.config import check_utf8_text
        from fleetaudit.inventory import load_inventory, select_hosts
        from fleetaudit.transport.sshconfig import SshConfigView

        resolved = load_inventory(inventory, refuse_later=True)  # --limit may leave some out
        inventory_warnings(resolved)
        hosts = select_hosts(resolved, limit or [])
        if ssh_config is not None:
            check_utf8_text(ssh_config, "ssh_config")
        view = SshConfigView(use=True, path=ssh_config)
        targets = asyncio.run(_targets(hosts, view))
        if format is ListFormat.JSON:
            rows = [_as_json(host, resolved, targets.get(host.name)) for host in hosts]
            write_report(json.dumps(rows, indent=2) + "\n", None)
        else:
            write_report(_table(hosts, resolved, targets) + "\n", None)


@inventory_app.command()
def check(inventory: InventoryArgument) -> None:
    """Validate an inventory without connecting anywhere: exit 0 if valid, 2 otherwise,
    with the file, line and key of each problem (every mistake in the hosts' and groups'
    keys and values at once)."""
    with user_errors():
        from fleetaudit.inventory import load_inventory

        resolved = load_inventory(inventory)
        inventory_warnings(resolved)
        groups = {group for host in resolved.hosts for group in host.groups}
        from fleetaudit.report.summary import counted

        hosts_text, groups_text = (
            counted(len(resolved.hosts), "host"),
            counted(len(groups), "group"),
        )
        say(f"{resolved.source}: valid; {hosts_text}, {groups_text}")


class _Target(NamedTuple):
    """Where ``run`` would connect an SSH host: the inventory's values, ssh_config's for the
    rest (``None`` when the config says nothing different from the SSH defaults)."""

    address: str
    port: int
    user: str
    jump: str | None
    keys: list[str]
    """The key files offered: the inventory's ``key``, else ssh_config's IdentityFile
    (empty: the ssh-agent and the default ~/.ssh/id_* keys)."""
    proxy_command: str | None
    """ssh_config's ProxyCommand when it is what ``run`` uses (no jump host wins over it)."""


async def _targets(hosts: tuple[Host, ...], view: SshConfigView) -> dict[str, _Target]:
    from fleetaudit.inventory import TransportKind

    targets = {}
    for host in hosts:
        if host.transport is not TransportKind.SSH:
            continue
        options: dict[str, object] = {"port": host.port, "username": host.user}
        target = await view.target(host.address, {k: v for k, v in options.items() if v})
        if target is None:
            continue
        resolved = view.resolve(host.address, host.port, host.user)
        own = resolved.identity_files if resolved is not None else ()
        jump = host.jump or (resolved.jump if resolved is not None else None)
        direct = jump is None or jump.lower() == "none"  # OpenSSH: then ProxyCommand applies
        command = resolved.proxy_command if resolved is not None and direct else None
        keys = [host.key] if host.key else list(own)
        targets[host.name] = _Target(*target, jump, keys, command)
    return targets


def _as_json(host: Host, inventory: Inventory, target: _Target | None) -> dict[str, object]:
    return {
        **host.model_dump(mode="json", exclude={"labels", "source_line"}),
        "labels": host.labels,
        "origins": inventory.origins.get(host.name, {}),
        "connects_to": None if target is None else target._asdict(),
    }


def _table(hosts: tuple[Host, ...], inventory: Inventory, targets: dict[str, _Target]) -> str:
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
        row = _row(host, origin, targets.get(host.name))
        rows.append([terminal_safe(cell) for cell in row])
    headers = ["HOST", "ADDRESS", "PORT", "USER", "KEY", "BECOME", "JUMP", "GROUPS"]
    return tabulate(rows, headers=headers, tablefmt="plain", disable_numparse=True)


def _row(host: Host, origin: dict[str, str], target: _Target | None) -> list[str]:
    from fleetaudit.inventory import TransportKind

    resolved = target._asdict() if target is not None else {}
    address = _with_origin(host.address, origin.get("address"))
    if resolved.get("address", host.address) != host.address:
        address += f" -> {resolved['address']} (ssh_config)"
    port = user = key = "-"
    if host.transport is TransportKind.SSH:
        me = getpass.getuser()
        port = _cell(host.port, origin.get("port"), resolved.get("port"), 22, "22 (ssh default)")
        user = _cell(host.user, origin.get("user"), resolved.get("user"), me, f"{me} (local user)")
        files = ",".join(resolved.get("keys") or []) or None
        key = _cell(host.key, origin.get("key"), files, None, "-")
    jump = "-"  # a local host is audited without SSH: a jump host set for it is not used
    if host.transport is TransportKind.SSH:
        jump = _cell(host.jump, origin.get("jump"), resolved.get("jump"), None, "-")
    if "," in (resolved.get("jump") or ""):
        jump += " refused by run: only one jump host is supported"
    if resolved.get("proxy_command"):
        jump = f"ProxyCommand {resolved['proxy_command']} (ssh_config)"
    return [
        host.name,
        address,
        port,
        user,
        key,
        _with_origin("yes" if host.become else "no", origin.get("become")),
        jump,
        ",".join(host.groups) or "-",
    ]


def _cell(value: object, origin: str | None, resolved: object, default: object, shown: str) -> str:
    """An inventory value with its origin; an unset one as ssh_config resolves it, or
    ``shown`` when the config leaves it at ``default``."""
    if value is not None:
        return _with_origin(str(value), origin)
    return shown if resolved is None or resolved == default else f"{resolved} (ssh_config)"


def _with_origin(value: str, origin: str | None) -> str:
    return f"{value} ({origin})" if origin and origin not in ("default", "host name") else value
