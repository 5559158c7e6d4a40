"""What changed between two runs: findings, listeners and host statuses. Pure.

A listener is identified by protocol, address, interface, port and process names, never by
pid: a service that merely restarted is not a change, one that moved from loopback to
0.0.0.0 is (one listener gone, one new). Only hosts audited in both runs are compared
socket by socket; a finding on a host that could not be audited the second time is not
"resolved", it is unknown, and the host's status change says so.
"""

from __future__ import annotations

from typing import NamedTuple

from pydantic import BaseModel, ConfigDict

from fleetaudit.model.enums import HostStatus
from fleetaudit.model.finding import Finding
from fleetaudit.model.host import HostSnapshot
from fleetaudit.model.run import RunResult
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


class HostChange(BaseModel):
    """One host's changes."""

    model_config = ConfigDict(frozen=True)

    host: str
    status_before: HostStatus | None
    status_after: HostStatus | None
    new_listeners: tuple[ListenerKey, ...] = ()
    removed_listeners: tuple[ListenerKey, ...] = ()


class RunDiff(BaseModel):
    """Everything that changed from ``before`` to ``after``."""

    model_config = ConfigDict(frozen=True)

    before: str
    after: str
    new_findings: tuple[Finding, ...]
    resolved_findings: tuple[Finding, ...]
    hosts: tuple[HostChange, ...]

    @property
    def empty(self) -> bool:
        """True when nothing changed."""
        return not (self.new_findings or self.resolved_findings or self.hosts)


def diff_runs(before: RunResult, after: RunResult) -> RunDiff:
    """The changes from ``before`` to ``after``."""
    old_hosts = {s.host: s for s in before.snapshots}
    new_hosts = {s.host: s for s in after.snapshots}
    both = {h for h in old_hosts.keys() & new_hosts.keys() if _audited(old_hosts[h], new_hosts[h])}
    old_prints = {f.fingerprint for f in before.active_findings}
    new_prints = {f.fingerprint for f in after.active_findings}
    new_findings = tuple(f for f in after.active_findings if f.fingerprint not in old_prints)
    resolved = tuple(
        f for f in before.active_findings if f.fingerprint not in new_prints and f.host in both
    )
    changes = [
        change
        for name in sorted(old_hosts.keys() | new_hosts.keys())
        if (change := _host_change(name, old_hosts.get(name), new_hosts.get(name))) is not None
    ]
    return RunDiff(
        before=before.run_id,
        after=after.run_id,
        new_findings=new_findings,
        resolved_findings=resolved,
        hosts=tuple(changes),
    )


def _audited(old: HostSnapshot, new: HostSnapshot) -> bool:
    return old.status.audited and new.status.audited


def _host_change(
    name: str, old: HostSnapshot | None, new: HostSnapshot | None
) -> HostChange | None:
    status_before = old.status if old is not None else None
    status_after = new.status if new is not None else None
    added: tuple[ListenerKey, ...] = ()
    removed: tuple[ListenerKey, ...] = ()
    if old is not None and new is not None and _audited(old, new):
        before = {listener_key(s) for s in old.listeners}
        after = {listener_key(s) for s in new.listeners}
        added, removed = tuple(sorted(after - before)), tuple(sorted(before - after))
    if status_before == status_after and not added and not removed:
        return None
    return HostChange(
        host=name,
        status_before=status_before,
        status_after=status_after,
        new_listeners=added,
        removed_listeners=removed,
    )
