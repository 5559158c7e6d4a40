"""What changed between two runs: findings, listeners and host statuses. Pure.

A listener is identified by protocol, address, interface, port and process names, never by
pid: a service that merely restarted is not a change, one that moved from loopback to
0.0.0.0 is (one listener gone, one new). Only hosts audited on both sides are compared
socket by socket; a finding on a host that could not be audited the second time is not
"resolved", it is unknown, and the host's status change says so. Nor is a finding, or a
listener, that a host's incomplete listing (unread lines, cut short) does not show.

A host that was not audited in the older run (auth_failed one night, say), or whose listing
there was incomplete, would otherwise make every finding it has in the newer run look new,
and hide what went away meanwhile. The caller may therefore give, per such host, a
:class:`Baseline`: the host as the last earlier run that audited it with a whole listing
saw it. The host is then compared with that, and the diff says so.

Likewise for statuses: ``interrupted`` means the older run was stopped before it finished
the host, which says nothing about the host. Compared as it is, a stopped run followed by a
night would list every host as ``interrupted -> ok`` and hide the host that broke tonight
among hosts broken for weeks. The caller may give, per such host, a
:class:`StatusBaseline`: the status the last earlier run that finished the host recorded.
A host ``interrupted`` in the newer run is shown as such (``ok -> interrupted``): that run
did not finish it, and the diff must not pretend it did.
"""

from __future__ import annotations

from collections.abc import Mapping

from fleetaudit.history.changes import (
    Baseline,
    FindingChange,
    HostChange,
    ListenerKey,
    ReachChange,
    RunDiff,
    StatusBaseline,
    listener_key,
)
from fleetaudit.history.owners import (
    owner_changed,
    owner_named_once,
    owner_unseen,
    same_listener_pairs,
)
from fleetaudit.model.enums import HostStatus, Privilege
from fleetaudit.model.host import HostSnapshot
from fleetaudit.model.run import RunResult


def hosts_needing_baseline(before: RunResult, after: RunResult) -> set[str]:
    """Hosts audited in ``after`` that ``before`` did not audit (or did not list), or whose
    listing in ``before`` was incomplete: compared with it, what it lacked read as new, and
    what went meanwhile never read as resolved (QA)."""
    seen_whole = {s.host for s in before.snapshots if s.status.audited and not s.listing_incomplete}
    return {s.host for s in after.snapshots if s.status.audited} - seen_whole


def hosts_needing_status(before: RunResult, after: RunResult) -> set[str]:
    """Hosts ``before`` was stopped before finishing that ``after`` lists with another
    status: their status is to be compared with an earlier run's."""
    stopped = {s.host for s in before.snapshots if s.status is HostStatus.INTERRUPTED}
    return {s.host for s in after.snapshots if s.status is not HostStatus.INTERRUPTED} & stopped


def diff_runs(
    before: RunResult,
    after: RunResult,
    baselines: Mapping[str, Baseline] | None = None,
    exit_codes: tuple[int | None, int | None] = (None, None),
    statuses: Mapping[str, StatusBaseline] | None = None,
    last_owners: Mapping[str, tuple[str, ...]] | None = None,
) -> RunDiff:
    """The changes from ``before`` to ``after``; a host in ``baselines`` that ``before``
    did not audit is compared with its baseline instead, a host in ``statuses`` that
    ``before`` was stopped before finishing has its status compared with that one, and a
    finding of ``before`` whose listener's owner it could not name is compared with the
    programs ``last_owners`` gives for it (by fingerprint; see :mod:`.owners`)."""
    needed = hosts_needing_baseline(before, after)
    used = {h: b for h, b in (baselines or {}).items() if h in needed}
    stopped = hosts_needing_status(before, after)
    status_used = {h: b for h, b in (statuses or {}).items() if h in stopped}
    old_hosts = {s.host: s for s in before.snapshots}
    new_hosts = {s.host: s for s in after.snapshots}
    compared = {**old_hosts, **{h: b.snapshot for h, b in used.items()}}
    both = {h for h in compared.keys() & new_hosts.keys() if _audited(compared[h], new_hosts[h])}
    old_findings = [f for f in before.active_findings if f.host not in used]
    old_findings += [f for b in used.values() for f in b.findings if not f.waived]
    new_active = {f.fingerprint: f for f in after.active_findings}
    everything_new = {f.fingerprint: f for f in after.findings}
    old_waived = {f.fingerprint: f for f in before.findings if f.waived and f.host not in used}
    old_waived |= {f.fingerprint: f for b in used.values() for f in b.findings if f.waived}
    unwaived = [f for f in after.active_findings if f.fingerprint in old_waived and f.host in both]
    seen_before = {f.fingerprint for f in old_findings} | old_waived.keys()
    still_there = [f for f in old_findings if f.host in both and f.fingerprint in everything_new]
    gone = [f for f in old_findings if f.fingerprint not in everything_new and f.host in both]
    appeared = [f for f in after.findings if f.fingerprint not in seen_before]
    owner_seen = same_listener_pairs(gone, appeared)  # neither resolved nor new
    went = {b.fingerprint for b, _ in owner_seen}
    # ... unless the program changed since the listener's owner was last named: then new
    owner_seen = [pair for pair in owner_seen if not owner_changed(pair, last_owners or {})]
    came = {a.fingerprint for _, a in owner_seen}
    new_findings = tuple(f for f in appeared if not f.waived and f.fingerprint not in came)
    dropped = _dropped_rules(before, after)
    judged = [f for f in gone if f.rule_id not in dropped and f.fingerprint not in went]
    unseen = owner_unseen(judged, {h: new_hosts[h] for h in both})
    unseen_ones = {f.fingerprint for f in unseen}
    undecided = [f for f in judged if f.fingerprint not in unseen_ones]
    incomplete = {h for h in both if new_hosts[h].listing_incomplete}
    # a finding of a socket the listing may lack; one about the whole host is decided
    unlisted = tuple(f for f in undecided if f.host in incomplete and f.socket is not None)
    unlisted_ones = {f.fingerprint for f in unlisted}
    resolved = tuple(f for f in undecided if f.fingerprint not in unlisted_ones)
    changed = (
        tuple(
            FindingChange(before=f, after=everything_new[f.fingerprint])
            for f in still_there
            if f.fingerprint not in new_active or new_active[f.fingerprint].severity != f.severity
        )
        + tuple(FindingChange(before=old_waived[f.fingerprint], after=f) for f in unwaived)
        + tuple(
            FindingChange(before=b, after=a)
            for b, a in owner_seen
            if a.waived or a.severity != b.severity
        )
    )
    changes = [
        change
        for name in sorted(old_hosts.keys() | new_hosts.keys())
        if (
            change := _host_change(
                name, old_hosts.get(name), new_hosts.get(name), used.get(name),
                status_used.get(name),
            )
        ) is not None
    ]  # fmt: skip
    return RunDiff(
        before=before.run_id,
        after=after.run_id,
        before_started_at=before.started_at,
        after_started_at=after.started_at,
        before_exit_code=exit_codes[0],
        after_exit_code=exit_codes[1],
        before_interrupted_by=before.interrupted_by,
        after_interrupted_by=after.interrupted_by,
        before_policy=before.policy_name,
        after_policy=after.policy_name,
        before_policy_digest=before.policy_digest,
        after_policy_digest=after.policy_digest,
        before_release=before.fleetaudit_version,
        after_release=after.fleetaudit_version,
        new_findings=new_findings,
        resolved_findings=resolved,
        changed_findings=changed,
        unconfirmed_findings=tuple(unseen),
        unlisted_findings=unlisted,
        unjudged_findings=tuple(f for f in gone if f.rule_id in dropped),
        hosts=tuple(changes),
    )


def _dropped_rules(before: RunResult, after: RunResult) -> set[str]:
    """The rules of ``before``'s policy that ``after``'s lacks (none known when a report
    does not list its rules)."""
    if not after.rules:
        return set()
    return {rule.id for rule in before.rules} - {rule.id for rule in after.rules}


def _audited(old: HostSnapshot, new: HostSnapshot) -> bool:
    return old.status.audited and new.status.audited


def _host_change(
    name: str,
    old: HostSnapshot | None,
    new: HostSnapshot | None,
    baseline: Baseline | None,
    status_baseline: StatusBaseline | None,
) -> HostChange | None:
    """The change of host ``name``; its listeners are compared with ``baseline`` when given,
    its status with ``status_baseline`` when given (else with the older run's, even a
    status that did not let it be audited: that is what happened)."""
    status_before = old.status if old is not None else None
    if status_baseline is not None:
        status_before = status_baseline.status
    status_after = new.status if new is not None else None
    reference = baseline.snapshot if baseline is not None else old
    added: tuple[ListenerKey, ...] = ()
    removed: tuple[ListenerKey, ...] = ()
    unlisted: tuple[ListenerKey, ...] = ()
    named_once: tuple[ListenerKey, ...] = ()
    privileges: tuple[Privilege | None, Privilege | None] = (None, None)
    incomplete_before = False
    reach: tuple[ReachChange, ...] = ()
    unread = (0, 0)
    if reference is not None and new is not None and _audited(reference, new):
        earlier = {listener_key(s) for s in reference.listeners}
        later = {listener_key(s) for s in new.listeners}
        added, removed, named_once = owner_named_once(later - earlier, earlier - later)
        if new.listing_incomplete:
            removed, unlisted = (), removed
        if reference.privilege is not new.privilege:
            privileges = (reference.privilege, new.privilege)
        incomplete_before = reference.listing_incomplete
        reach = _reach_changes(reference, new)
        unread = (len(reference.parse_errors), len(new.parse_errors))
    if (
        status_before == status_after
        and not (added or removed or unlisted or named_once or reach)
        and unread[0] == unread[1]
        and privileges[0] is None
    ):
        return None
    return HostChange(
        host=name,
        status_before=status_before,
        status_after=status_after,
        new_listeners=added,
        removed_listeners=removed,
        unlisted_listeners=unlisted,
        incomplete_before=incomplete_before,
        ipv4_reach_changed=reach,
        unread_lines=unread if unread[0] != unread[1] else None,
        owner_named_once=named_once,
        compared_with=baseline.run_id if baseline is not None else None,
        compared_with_started_at=baseline.started_at if baseline is not None else None,
        status_compared_with=status_baseline.run_id if status_baseline is not None else None,
        status_compared_with_started_at=(
            status_baseline.started_at if status_baseline is not None else None
        ),
        privilege_before=privileges[0],
        privilege_after=privileges[1],
        compared_with_nothing=(
            baseline is None
            and old is not None
            and not old.status.audited
            and new is not None
            and new.status.audited
        ),
    )


def _reach_changes(old: HostSnapshot, new: HostSnapshot) -> tuple[ReachChange, ...]:
    """The listeners of both sides whose IPv4 reach both listings show, and differs."""
    before, after = _ipv4_reach(old), _ipv4_reach(new)
    return tuple(
        ReachChange(key, before[key], after[key])
        for key in sorted(before.keys() & after.keys())
        if before[key] != after[key]
    )


def _ipv4_reach(snapshot: HostSnapshot) -> dict[ListenerKey, bool]:
    """Whether each listener whose IPv4 reach the listing shows takes IPv4 (any of its
    sockets, for an SO_REUSEPORT group)."""
    reach: dict[ListenerKey, bool] = {}
    for socket in snapshot.listeners:
        if socket.accepts_ipv4 is not None:
            key = listener_key(socket)
            reach[key] = reach.get(key, False) or socket.accepts_ipv4
    return reach


__all__ = [
    "Baseline",
    "FindingChange",
    "HostChange",
    "ListenerKey",
    "RunDiff",
    "StatusBaseline",
    "diff_runs",
    "hosts_needing_baseline",
    "hosts_needing_status",
    "listener_key",
]
