"""``fleetaudit policy lint|explain``: check a policy, and see how it judges a host."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from fleetaudit.cli.console import say
from fleetaudit.cli.errors import user_errors
from fleetaudit.cli.run import PolicyFile, load_policy_or_default
from fleetaudit.inventory.model import Host
from fleetaudit.model.enums import HostStatus
from fleetaudit.model.finding import Finding
from fleetaudit.model.host import HostSnapshot

if TYPE_CHECKING:
    from fleetaudit.policy import Policy

policy_app = typer.Typer(
    name="policy",
    help="Check a policy file, and explain how it judges a host.",
    no_args_is_help=True,
)

InventoryOption = Annotated[
    Path | None,
    typer.Option(help="Inventory to check selectors against / take the host from.", dir_okay=False),
]


@policy_app.command()
def lint(
    file: Annotated[Path, typer.Argument(help="Policy file.", dir_okay=False)],
    inventory: InventoryOption = None,
) -> None:
    """Validate a policy and warn about rules and waivers that cannot work as meant.

    Errors (exit 2) name the file, line and column. Warnings (exit 0): a rule that repeats
    another, a selector or match that holds for nothing, an expired waiver, and with
    --inventory, selectors naming no group or host of it.
    """
    with user_errors():
        from fleetaudit.errors import PolicyError
        from fleetaudit.inventory import load_inventory
        from fleetaudit.policy import load_policy
        from fleetaudit.policy.lint import lint as lint_policy
        from fleetaudit.yamlsource import load_yaml

        policy = load_policy(file)
        hosts = load_inventory(inventory) if inventory is not None else None
        warnings = lint_policy(policy, datetime.now(UTC).date(), hosts)
        doc = load_yaml(file, PolicyError)
        for warning in warnings:
            line, column = doc.position(warning.loc)
            print(f"{file}:{line}:{column}: warning: {warning.message}")
        say(
            f"{file}: valid; {len(policy.rules)} rules, {len(policy.waivers)} waivers, "
            f"{len(warnings)} warnings"
        )


@policy_app.command()
def explain(
    host: Annotated[str, typer.Option(help="Host name (as in the inventory).")],
    capture: Annotated[
        Path | None,
        typer.Argument(help="Saved listing of the host: also explain each socket.", dir_okay=False),
    ] = None,
    policy: PolicyFile = None,
    group: Annotated[list[str] | None, typer.Option(help="Group of the host (repeatable).")] = None,
    inventory: InventoryOption = None,
    privileged: Annotated[
        bool, typer.Option(help="The capture was taken as root (see `check --help`).")
    ] = False,
) -> None:
    """Show which rules apply to HOST and why; with CAPTURE, what each socket met."""
    with user_errors():
        from fleetaudit.policy.explain import explain_rules, explain_sockets

        rules = load_policy_or_default(policy)
        snapshot, findings = _judge(host, capture, group or [], inventory, privileged, rules)
        lines = explain_rules(rules, snapshot)
        if capture is not None:
            lines += explain_sockets(rules, snapshot, findings)
        print("\n".join(lines))


def _judge(
    name: str,
    capture: Path | None,
    groups: list[str],
    inventory: Path | None,
    privileged: bool,
    rules: Policy,
) -> tuple[HostSnapshot, tuple[Finding, ...]]:
    """The host's snapshot (empty without a capture) and its findings."""
    from fleetaudit.auditor import Auditor
    from fleetaudit.captures import load_captures, replay_transport
    from fleetaudit.inventory import load_inventory

    hosts = load_inventory(inventory) if inventory is not None else None
    if capture is None:
        known = {h.name: h for h in hosts.hosts} if hosts is not None else {}
        entry = known.get(name) or Host(name=name, address=name, groups=tuple(groups))
        snapshot = HostSnapshot(
            host=entry.name,
            address=entry.address,
            groups=entry.groups,
            labels=entry.labels,
            status=HostStatus.OK,
            collected_at=datetime.now(UTC),
        )
        return snapshot, ()
    saved = load_captures(
        [capture], host=name, groups=groups, inventory=hosts, privileged=privileged
    )
    result = Auditor(transport=replay_transport(saved)).run([saved[0].host], rules)
    return result.snapshots[0], result.findings
