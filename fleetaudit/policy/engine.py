"""Judge one host's snapshot against a policy: pure, no I/O, deterministic.

Findings come out in rule order (as written in the policy file), then in socket order (as
the host listed them). A host that was not audited (any status but ``ok``) gets no
findings: its failure is reported as a host status, not as a policy verdict.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from fleetaudit.model.enums import HostStatus
from fleetaudit.model.finding import Finding
from fleetaudit.model.host import HostSnapshot
from fleetaudit.policy.schema import Policy
from fleetaudit.policy.waivers import apply_waivers


def evaluate(snapshot: HostSnapshot, policy: Policy, today: date | None = None) -> list[Finding]:
    """Every finding of ``policy`` on ``snapshot``, with waivers applied as of ``today``
    (the UTC date when not given; tests and replays pass it to stay deterministic)."""
    if snapshot.status is not HostStatus.OK:
        return []
    applicable = [rule for rule in policy.rules if rule.select.selects(snapshot)]
    findings = (finding for rule in applicable for finding in rule.check(snapshot, applicable))
    waiver_names = {rule.id: rule.waiver_names(applicable) for rule in applicable}
    day = today or datetime.now(UTC).date()
    return apply_waivers(findings, snapshot, policy.waivers, day, waiver_names)
