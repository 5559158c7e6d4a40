"""Judge one host's snapshot against a policy: pure, no I/O, deterministic.

Findings come out in rule order (as written in the policy file), then in socket order (as
the host listed them). A host that was not audited (any status but ``ok``) gets no
findings: its failure is reported as a host status, not as a policy verdict.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

from fleetaudit.model.enums import HostStatus
from fleetaudit.model.finding import Finding, rule_reference
from fleetaudit.model.host import HostSnapshot
from fleetaudit.policy.rules import Rule
from fleetaudit.policy.schema import Policy
from fleetaudit.policy.waivers import apply_waivers


def evaluate(
    snapshot: HostSnapshot,
    policy: Policy,
    today: date | None = None,
    applicable: list[Rule] | None = None,
) -> list[Finding]:
    """Every finding of ``policy`` on ``snapshot``, with waivers applied as of ``today``
    (the UTC date when not given; tests and replays pass it to stay deterministic).
    ``applicable``: :func:`applicable_rules` of the host, when the caller has them."""
    if snapshot.status is not HostStatus.OK:
        return []
    if applicable is None:
        applicable = applicable_rules(snapshot, policy)
    findings = [finding for rule in applicable for finding in rule.check(snapshot, applicable)]
    waiver_names = {rule.id: rule.waiver_names(applicable) for rule in applicable}
    day = today or datetime.now(UTC).date()
    return apply_waivers(one_per_listener(findings), snapshot, policy.waivers, day, waiver_names)


def applicable_rules(snapshot: HostSnapshot, policy: Policy) -> list[Rule]:
    """The rules of ``policy`` whose ``select:`` chooses the host."""
    return [rule for rule in policy.rules if rule.select.selects(snapshot)]


def one_per_listener(findings: list[Finding]) -> list[Finding]:
    """One finding per fingerprint. Processes or threads that share a port with SO_REUSEPORT
    (nginx's ``reuseport``, HAProxy, Envoy, unbound's threads) each hold a socket of their
    own, which ss lists apart, and a rule finds each of them: as many findings of one
    listener, with one fingerprint (pids are not in it), which SARIF collapsed, JUnit
    repeated and anything keyed on the fingerprint lost. The first of the most severe
    stands for the others, holding all their processes, and its headline counts the
    sockets."""
    groups: dict[str, list[Finding]] = {}
    for finding in findings:
        groups.setdefault(finding.fingerprint, []).append(finding)
    if len(groups) == len(findings):
        return findings
    return [_merged(group) if len(group) > 1 else group[0] for group in groups.values()]


def _merged(group: list[Finding]) -> Finding:
    kept = max(group, key=lambda finding: finding.severity.rank)  # the first of the most severe
    if kept.socket is None:
        return kept
    held = (process for finding in group if finding.socket for process in finding.socket.processes)
    socket = replace(kept.socket, processes=tuple(dict.fromkeys(held)))
    # in the headline, before the rule's explanation, so that every report shows it
    what, marker, rest = kept.message.partition(rule_reference(kept.rule_id))
    note = f", as {len(group)} sockets (SO_REUSEPORT)"
    message = f"{what}{note}{marker}{rest}" if marker else f"{kept.message}{note}."
    return kept.model_copy(update={"socket": socket, "message": message})
