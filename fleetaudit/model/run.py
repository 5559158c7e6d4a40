"""The result of one audit run: every host's snapshot and every finding."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from fleetaudit.model.enums import HostKeyPolicy, HostStatus, Severity
from fleetaudit.model.finding import Finding
from fleetaudit.model.host import HostSnapshot


class RuleInfo(BaseModel):
    """What a report needs to know about a policy rule (SARIF rule metadata, JUnit cases)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    kind: str
    severity: Severity
    description: str
    fix: str | None = None


class ShardInfo(BaseModel):
    """Which part of a sharded audit (``run --shard K/N``) a run covered, so that ``merge``
    can tell a missing, repeated or foreign shard."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    index: int = Field(ge=1)
    """K, 1-based."""
    count: int = Field(ge=1)
    """N."""
    hosts_digest: str
    """SHA-256 of the names of every host selected before sharding (all N shards), so that
    shards of different inventories or ``--limit`` selections do not merge, and a host
    deleted from a shard's report does not go unnoticed."""
    whole_inventory: bool = False
    """True when the selection before sharding was every host of the inventory (no
    ``--limit`` left one out): only then may the merged shards count as a full audit of
    the fleet. False in reports of releases that did not record it."""
    selected: int | None = None
    """How many hosts the selection before sharding held (for ``merge``'s messages); None
    in reports of releases that did not record it."""


class RunResult(BaseModel):
    """Everything one run learnt; the input of every report format and of history."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    run_id: str
    started_at: datetime
    finished_at: datetime
    fleetaudit_version: str
    policy_name: str
    policy_source: str
    host_key_policy: HostKeyPolicy
    snapshots: tuple[HostSnapshot, ...]
    findings: tuple[Finding, ...]
    rules: tuple[RuleInfo, ...] = ()
    """The policy's rules, in file order."""
    interrupted_by: str | None = None
    """``SIGINT``, ``SIGTERM`` or ``SIGHUP`` when the run was stopped early: the report is
    partial."""
    policy_digest: str | None = None
    """SHA-256 of the policy's rules and waivers as judged (canonical JSON), so that
    ``merge`` compares what judged the shards, not the path the policy was read from. None
    in reports of releases that did not record it."""
    shard: ShardInfo | None = None
    """Set by ``run --shard K/N``; absent (never ``null``) from reports of whole runs."""

    @property
    def failed_hosts(self) -> tuple[HostSnapshot, ...]:
        """Hosts that could not be audited."""
        return tuple(s for s in self.snapshots if s.status is not HostStatus.OK)

    @property
    def active_findings(self) -> tuple[Finding, ...]:
        """Findings no unexpired waiver covers."""
        return tuple(f for f in self.findings if not f.waived)

    def findings_at_or_above(self, threshold: Severity) -> tuple[Finding, ...]:
        """Active (unwaived) findings whose severity is at least ``threshold``."""
        return tuple(f for f in self.active_findings if f.severity.rank >= threshold.rank)


def in_report_order(
    snapshots: Iterable[HostSnapshot], findings: Iterable[Finding]
) -> tuple[tuple[HostSnapshot, ...], tuple[Finding, ...]]:
    """Hosts by name; findings by severity (worst first), then host name, then as found.

    The one ordering every run uses, so that a report or a diff never depends on the order in
    which hosts finished, and merged shards equal an unsharded run.
    """
    hosts = tuple(sorted(snapshots, key=lambda s: s.host))
    rank = {s.host: i for i, s in enumerate(hosts)}
    ordered = sorted(findings, key=lambda f: (-f.severity.rank, rank.get(f.host, len(rank))))
    return hosts, tuple(ordered)
