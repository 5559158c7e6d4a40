"""``policy explain``: which rules apply to a host and why, and what each socket met.

Pure: builds lines of text from a policy, a host (name, groups, labels) and, optionally,
its snapshot and findings.
"""

from __future__ import annotations

from collections.abc import Sequence
from difflib import get_close_matches

from fleetaudit.errors import InventoryError
from fleetaudit.inventory.model import Host, Inventory
from fleetaudit.model.finding import Finding
from fleetaudit.model.host import HostSnapshot
from fleetaudit.policy.schema import Policy
from fleetaudit.policy.selectors import HostSelector


def inventory_host(inventory: Inventory, name: str) -> Host:
    """The host called ``name`` in ``inventory``. A name it lacks is an error, never a host
    without groups: explaining a typo as a real host would show the wrong rules applying."""
    for host in inventory.hosts:
        if host.name == name:
            return host
    message = f"no host {name!r} in this inventory"
    close = get_close_matches(name, [host.name for host in inventory.hosts], n=3)
    if close:
        message += " (did you mean " + " or ".join(map(repr, close)) + "?)"
    raise InventoryError(message, path=inventory.source)


def describe_selector(select: HostSelector) -> str:
    """The selector as a sentence; ``every host`` when it has no condition."""
    parts = []
    if select.hosts is not None:
        parts.append("host name matches " + " or ".join(select.hosts))
    if select.groups is not None:
        parts.append("in group " + " or ".join(select.groups))
    if select.labels is not None:
        parts.append("labels " + ", ".join(f"{k}={v}" for k, v in select.labels.items()))
    if select.not_ is not None:
        parts.append(f"not ({describe_selector(select.not_)})")
    return " and ".join(parts) or "every host"


def explain_rules(policy: Policy, snapshot: HostSnapshot) -> list[str]:
    """One line per rule: applies or not, and the selector that decided it."""
    groups = ", ".join(snapshot.groups) or "none"
    labels = ", ".join(f"{k}={v}" for k, v in snapshot.labels.items()) or "none"
    lines = [f"host {snapshot.host} (groups: {groups}; labels: {labels})", "", "RULES"]
    for rule in policy.rules:
        verdict = "applies    " if rule.select.selects(snapshot) else "not applied"
        lines.append(
            f"  {verdict}  {rule.id} ({rule.kind}, {rule.severity.value}): "
            f"selects {describe_selector(rule.select)}"
        )
    return lines


def explain_sockets(
    policy: Policy, snapshot: HostSnapshot, findings: Sequence[Finding]
) -> list[str]:
    """One block per socket: the findings on it, or the rules it met."""
    applicable = [rule for rule in policy.rules if rule.select.selects(snapshot)]
    lines = ["", f"SOCKETS ({len(snapshot.sockets)})"]
    for socket in snapshot.sockets:
        lines.append(
            f"  {socket.proto.value} {socket.state.value} {socket.endpoint} {socket.owner_label}"
        )
        own = [f for f in findings if f.socket == socket]
        for finding in own:
            mark = "WAIVED" if finding.waived else "FAIL  "
            lines.append(
                f"    {mark} {finding.rule_id} ({finding.severity.value}): {finding.message}"
            )
        # what the other rules made of it: a rule that could not judge it is said even when
        # another one failed it (it may hide a second finding)
        failed = {finding.rule_id for finding in own}
        met = [rule.concerns(socket) for rule in applicable if rule.id not in failed]
        checked = [text for text in met if text]
        if not own:
            lines.append("    pass   " + ("; ".join(checked) if checked else "no rule concerns it"))
        elif checked:
            lines.append("    also   " + "; ".join(checked))
    host_level = [f for f in findings if f.socket is None]
    if host_level:
        lines += ["", "HOST-LEVEL FINDINGS"]
        lines += [f"  {f.rule_id} ({f.severity.value}): {f.message}" for f in host_level]
    return lines
