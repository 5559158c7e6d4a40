"""Judge one host's snapshot against a policy: pure, no I/O, deterministic.

Findings come out in rule order (as written in the policy file), then in socket order (as
the host listed them). A host that was not audited (any status but ``ok``) gets no
findings: its failure is reported as a host status, not as a policy verdict.
"""

from __future__ import annotations

from fleetaudit.model.enums import HostStatus
from fleetaudit.model.finding import Finding
from fleetaudit.model.host import HostSnapshot
from fleetaudit.policy.schema import Policy


def evaluate(snapshot: HostSnapshot, policy: Policy) -> list[Finding]:
    """Every finding of ``policy`` on ``snapshot``."""
    if snapshot.status is not HostStatus.OK:
        return []
    applicable = [rule for rule in policy.rules if rule.select.selects(snapshot)]
    return [finding for rule in applicable for finding in rule.check(snapshot, applicable)]
