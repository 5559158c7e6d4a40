"""What a diff between two runs is made of: the frozen models ``fleetaudit diff`` renders
and writes as JSON (:mod:`.diff` computes them)."""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from pydantic import BaseModel, ConfigDict

from fleetaudit.model.enums import HostStatus, Privilege
from fleetaudit.model.finding import Finding
from fleetaudit.model.host import HostSnapshot
from fleetaudit.model.socket import Socket


class ListenerKey(NamedTuple):
    """A listener's identity across runs."""

    proto: str
    endpoint: str
    processes: str


def listener_key(socket: Socket) -> ListenerKey:
    """The identity of ``socket`` (no pid, no queues, program names rather than command
    lines, which netstat cuts at a place that moves with the pid's length)."""
    names = ",".join(socket.program_names) or socket.owner_label
    return ListenerKey(socket.proto.value, socket.endpoint, names)


class ReachChange(NamedTuple):
    """A listener (an IPv6 wildcard) that now takes IPv4 where it did not, or no longer
    does: its IPV6_V6ONLY changed, which its identity does not hold."""

    listener: ListenerKey
    before: bool
    after: bool


class Baseline(NamedTuple):
    """One host as an earlier run that audited it saw it."""

    run_id: str
    started_at: datetime
    snapshot: HostSnapshot
    findings: tuple[Finding, ...]
    """The host's findings in that run, waived ones too."""


class StatusBaseline(NamedTuple):
    """One host's status as the last earlier run that finished it (any status but
    ``interrupted``) recorded it."""

    run_id: str
    started_at: datetime
    status: HostStatus


class HostChange(BaseModel):
    """One host's changes."""

    model_config = ConfigDict(frozen=True)

    host: str
    status_before: HostStatus | None
    status_after: HostStatus | None
    new_listeners: tuple[ListenerKey, ...] = ()
    removed_listeners: tuple[ListenerKey, ...] = ()
    compared_with: str | None = None
    """The earlier run the host was compared with, when the older run did not audit it."""
    compared_with_started_at: datetime | None = None
    status_compared_with: str | None = None
    """The earlier run ``status_before`` comes from, when the older run was stopped before
    it finished the host (its status there was ``interrupted``)."""
    status_compared_with_started_at: datetime | None = None
    unlisted_listeners: tuple[ListenerKey, ...] = ()
    """Listeners of the older run that the newer, incomplete listing does not show (see
    ``RunDiff.unlisted_findings``): not removed, not seen either."""
    ipv4_reach_changed: tuple[ReachChange, ...] = ()
    """Listeners on both sides whose IPv4 reach both listings show, and differs (QA: a
    ``[::]:5432`` that began taking IPv4 was no change)."""
    unread_lines: tuple[int, int] | None = None
    """``(before, after)``: how many lines of its listing could not be read, when that
    changed (QA: a second unreadable line, a new listener, was no change, the coverage
    finding being one per host)."""
    incomplete_before: bool = False
    """The older run's listing of the host was incomplete: what it did not show reads as
    new."""
    owner_named_once: tuple[ListenerKey, ...] = ()
    """Listeners whose owner one run named and the other could not (audited once without
    root, say), as the run that named it saw them: neither new nor removed, so a night of
    broken sudo does not list every listener of the fleet twice."""
    privilege_before: Privilege | None = None
    """Set, with ``privilege_after``, when the host was audited with another privilege than
    before: the owners of sockets then change from named to unknown, or back (see
    ``owner_named_once``; its findings are matched across the change:
    :mod:`fleetaudit.history.owners`)."""
    privilege_after: Privilege | None = None
    compared_with_nothing: bool = False
    """Audited now, not in the older run, and no earlier run that audited it was at hand (a
    diff of two files consults no history): every finding it has reads as new."""


class FindingChange(BaseModel):
    """A finding both runs have (same rule, host and listener) that counts differently in
    ``after``: judged at another severity, covered by a waiver it was not covered by, or no
    longer covered (its waiver expired or was removed). None is a new or resolved finding:
    the listener was and is there."""

    model_config = ConfigDict(frozen=True)

    before: Finding
    after: Finding


class RunDiff(BaseModel):
    """Everything that changed from ``before`` to ``after``."""

    model_config = ConfigDict(frozen=True)

    before: str
    after: str
    before_started_at: datetime
    after_started_at: datetime
    before_exit_code: int | None = None
    """None when unknown: a run read from a file does not record its exit code."""
    after_exit_code: int | None = None
    before_interrupted_by: str | None = None
    """``SIGTERM``/``SIGINT`` when that run was stopped early: it is partial."""
    after_interrupted_by: str | None = None
    before_chosen_because: str | None = None
    """Why the default diff compared with ``before`` and not the run just before
    ``after`` (that one covered less); None when nothing was skipped."""
    before_policy: str | None = None
    """The name of the policy that judged ``before`` (None when unknown)."""
    after_policy: str | None = None
    before_policy_digest: str | None = None
    """The digest of its rules and waivers (None: a release that did not record it)."""
    after_policy_digest: str | None = None
    before_release: str | None = None
    """The fleetaudit release that made ``before`` (None when unknown)."""
    after_release: str | None = None
    new_findings: tuple[Finding, ...]
    resolved_findings: tuple[Finding, ...]
    changed_findings: tuple[FindingChange, ...] = ()
    unconfirmed_findings: tuple[Finding, ...] = ()
    """Findings of ``before`` whose listener ``after`` still lists but whose process it
    could not name (audited without root): not resolved, not confirmed either."""
    unlisted_findings: tuple[Finding, ...] = ()
    """Findings of ``before`` on a host whose listing in ``after`` is incomplete (lines it
    could not read, cut short) and does not show them: not resolved (QA: a cut listing
    mailed real findings as resolved), not confirmed either."""
    unjudged_findings: tuple[Finding, ...] = ()
    """Findings of ``before`` whose rule the policy of ``after`` no longer has: not
    resolved (their listener may still be there), no longer judged."""
    hosts: tuple[HostChange, ...]

    @property
    def empty(self) -> bool:
        """True when nothing changed."""
        return not (
            self.new_findings
            or self.resolved_findings
            or self.changed_findings
            or self.unconfirmed_findings
            or self.unlisted_findings
            or self.unjudged_findings
            or self.hosts
        )

    @property
    def policies_differ(self) -> bool:
        """True when the two runs were judged by different policies (rules or waivers): by
        their digests, else (a run that recorded none) by their names. A policy file renamed
        but unchanged judges the same."""
        if self.before_policy_digest is not None and self.after_policy_digest is not None:
            return self.before_policy_digest != self.after_policy_digest
        names = (self.before_policy, self.after_policy)
        return None not in names and names[0] != names[1]
