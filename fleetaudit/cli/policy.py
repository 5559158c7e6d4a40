"""``fleetaudit policy lint|explain``: check a policy, and see how it judges a host."""

from __future__ import annotations

import os
import shlex
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from fleetaudit.cli.console import say
from fleetaudit.cli.errors import user_errors
from fleetaudit.cli.options import PolicyFile
from fleetaudit.cli.output import write_report
from fleetaudit.cli.policy_source import load_policy_or_default
from fleetaudit.errors import InputError
from fleetaudit.model.enums import HostStatus
from fleetaudit.report.escape import terminal_safe

if TYPE_CHECKING:
    from fleetaudit.model.finding import Finding
    from fleetaudit.model.host import HostSnapshot
    from fleetaudit.policy import Policy

policy_app = typer.Typer(
    name="policy",
    help="Check a policy file, and explain how it judges a host.",
    no_args_is_help=True,
)

InventoryOption = Annotated[
    Path | None,
    typer.Option(
        help="Inventory: `lint` checks selectors against its groups and hosts; `explain` "
        "takes the host's groups and labels from it.",
        dir_okay=False,
    ),
]


@policy_app.command()
def lint(
    file: Annotated[Path, typer.Argument(help="Policy file.", dir_okay=False)],
    inventory: InventoryOption = None,
) -> None:
    """Validate a policy and warn about rules and waivers that cannot work as meant.

    Errors (exit 2) name the file, line and column: every empty value, else every broken
    rule, else every broken waiver, at once (a later kind is checked when the earlier ones
    are right). Warnings (exit 0): a policy with no
    rules or no coverage rule, a rule that repeats another, a selector or match that holds
    for nothing (or for no socket its rule kind judges), a listener rule matching by process
    without a port, a host glob with an unclosed '[', an expired waiver, with extends: a
    base rule replaced by another kind and allowlists unioned with the base's, and with
    --inventory, selectors (their not: too) naming no group, host or label of it or
    selecting no host.
    """
    with user_errors():
        from fleetaudit.errors import PolicyError
        from fleetaudit.inventory import load_inventory_names
        from fleetaudit.policy import load_policy
        from fleetaudit.policy.lint import lint as lint_policy
        from fleetaudit.policy.loader import policy_document
        from fleetaudit.report.summary import counted
        from fleetaudit.yamlsource import load_yaml

        policy = load_policy(file)
        hosts = load_inventory_names(inventory) if inventory is not None else None
        warnings = lint_policy(policy, datetime.now(UTC).date(), hosts)
        docs = {policy.source: (str(file), load_yaml(file, PolicyError))}
        for warning in warnings:
            if warning.source not in docs:  # a base file, for what the policy inherits
                docs[warning.source] = (_shown(warning.source), policy_document(warning.source))
            shown, doc = docs[warning.source]
            line, column = doc.position(warning.loc)
            write_report(f"{shown}:{line}:{column}: warning: {warning.message}\n", None)
        counts = (
            counted(len(policy.rules), "rule"),
            counted(len(policy.waivers), "waiver"),
            counted(len(warnings), "warning"),
        )
        say(f"{file}: valid; " + ", ".join(counts))


def say_lint_warnings(path: Path | None, policy: Policy) -> None:
    """One stderr line when the policy file ``run``/``check`` judge with has lint warnings,
    so a policy that silently means less than it says does not go unnoticed; the warnings
    themselves are for ``policy lint``. Nothing for the built-in default (``path`` None)."""
    if path is None:
        return
    from fleetaudit.policy.lint import lint as lint_policy

    count = len(lint_policy(policy, datetime.now(UTC).date()))
    if count:
        say(
            f"policy {path} has {count} lint warning{'' if count == 1 else 's'}; "
            f"run `fleetaudit policy lint {shlex.quote(str(path))}`"
        )


def _shown(source: str) -> str:
    """A base policy's path as the operator would write it: relative when it is below the
    current directory, like the path given on the command line."""
    if not os.path.isabs(source):
        return source  # the built-in default's label
    relative = os.path.relpath(source)
    return source if relative.startswith("..") else relative


@policy_app.command()
def explain(
    host: Annotated[
        str,
        typer.Option(metavar="NAME", help="Host name; with --inventory, a host of that inventory."),
    ],
    capture: Annotated[
        Path | None,
        typer.Argument(
            help="Saved listing of the host ('-': stdin): also explain each socket.",
            dir_okay=False,
        ),
    ] = None,
    policy: PolicyFile = None,
    group: Annotated[
        list[str] | None,
        typer.Option(metavar="GROUP", help="Group of the host (repeatable)."),
    ] = None,
    inventory: InventoryOption = None,
    privileged: Annotated[
        bool, typer.Option(help="The capture was taken as root (see `check --help`).")
    ] = False,
) -> None:
    """Show which rules apply to HOST and why; with CAPTURE, what each socket met."""
    with user_errors():
        from fleetaudit.captures import unnamed_group_warnings
        from fleetaudit.policy.explain import explain_rules, explain_sockets

        if not host.strip():
            raise InputError("--host is empty (an unset variable?): give the host's name")
        if inventory is not None and group:
            raise InputError("--group and --inventory both give the host's groups; use one")
        rules = load_policy_or_default(policy)
        for warning in unnamed_group_warnings(group or [], rules):
            say(warning)
        snapshot, findings = _judge(host, capture, group or [], inventory, privileged, rules)
        lines = explain_rules(rules, snapshot)
        if capture is not None:
            lines += explain_sockets(rules, snapshot, findings)
        # process names come from the host: a newline or an escape sequence in one must
        # not reach the terminal as such
        write_report("".join(terminal_safe(line) + "\n" for line in lines), None)


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
    from fleetaudit.inventory import load_inventory_names
    from fleetaudit.inventory.model import Host
    from fleetaudit.model.host import HostSnapshot
    from fleetaudit.policy.explain import inventory_host

    hosts = load_inventory_names(inventory) if inventory is not None else None
    if hosts is not None:
        entry = inventory_host(hosts, name)  # a name the inventory lacks is an error
    else:
        entry = Host(name=name, address=name, groups=tuple(groups))
    if capture is None:
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
