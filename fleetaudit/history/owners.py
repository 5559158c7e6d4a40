"""Findings that differ only in whether their listener's owner was named.

A finding's fingerprint holds the listener's program names. When one audit names a
listener's owner and the other cannot (the host audited with and then without root, or a
process another PID namespace hides), the same listener gives two fingerprints, and the
diff read it as one finding resolved and another new: a high finding "resolved" in the
morning mail while the listener was open all along. Such pairs are the same finding.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence, Set

from fleetaudit.history.changes import ListenerKey
from fleetaudit.model.finding import Finding
from fleetaudit.model.host import HostSnapshot
from fleetaudit.model.socket import OWNER_UNKNOWN

_Where = tuple[str, str, str, str, str | None, int | None]


def same_listener_pairs(
    gone: Iterable[Finding], appeared: Sequence[Finding]
) -> list[tuple[Finding, Finding]]:
    """``(before, after)`` pairs of a finding that went and one that appeared on the same
    host, rule and local endpoint, where exactly one of them names no process; each
    finding in one pair at most. Findings that name different programs on both sides are
    no pair: another program on the port is a change."""
    waiting: dict[_Where, list[Finding]] = {}
    for finding in appeared:
        if (where := _where(finding)) is not None:
            waiting.setdefault(where, []).append(finding)
    pairs = []
    for before in gone:
        where = _where(before)
        candidates = waiting.get(where, []) if where is not None else []
        for after in candidates:
            if _named(before) != _named(after):
                pairs.append((before, after))
                candidates.remove(after)
                break
    return pairs


def needing_last_owner(before: Iterable[Finding], after: Iterable[Finding]) -> list[Finding]:
    """The findings of ``before`` that name no process, where ``after`` has a finding on the
    same host, rule and local endpoint that names one: the older sides of the pairs of
    :func:`same_listener_pairs` (a few more at most), whose earlier owner is worth a look."""
    named_after = {where for f in after if _named(f) and (where := _where(f)) is not None}
    return [f for f in before if not _named(f) and _where(f) in named_after]


def last_owner_in(run_findings: Iterable[Finding], unnamed: Finding) -> tuple[str, ...] | None:
    """The programs a finding of ``run_findings`` names on the host, rule and local
    endpoint of ``unnamed``; None when none names them there."""
    where = _where(unnamed)
    for finding in run_findings:
        if finding.socket is not None and _named(finding) and _where(finding) == where:
            return finding.socket.program_names
    return None


def owner_changed(
    pair: tuple[Finding, Finding], last_owners: Mapping[str, tuple[str, ...]]
) -> bool:
    """Whether the newer side of a pair names other programs than the last run that named
    the listener's owner, the older side naming none (``last_owners`` by its fingerprint)."""
    before, after = pair
    if _named(before) or after.socket is None:
        return False
    last = last_owners.get(before.fingerprint)
    return last is not None and last != after.socket.program_names


def owner_named_once(
    added: Set[ListenerKey], removed: Set[ListenerKey]
) -> tuple[tuple[ListenerKey, ...], tuple[ListenerKey, ...], tuple[ListenerKey, ...]]:
    """``(added, removed, named_once)``: the listeners that came and went, sorted, without
    the pairs of one listener (protocol and endpoint) whose owner one side names and the
    other could not see; of each such pair, the side that names it is in ``named_once``."""
    unseen_added = {(k.proto, k.endpoint): k for k in added if k.processes == OWNER_UNKNOWN}
    unseen_removed = {(k.proto, k.endpoint): k for k in removed if k.processes == OWNER_UNKNOWN}
    paired: set[ListenerKey] = set()
    named_once = []
    for named, unseen in ((removed, unseen_added), (added, unseen_removed)):
        for key in sorted(named):
            if key.processes == OWNER_UNKNOWN:
                continue
            if (other := unseen.pop((key.proto, key.endpoint), None)) is not None:
                paired |= {key, other}
                named_once.append(key)
    return (
        tuple(sorted(added - paired)),
        tuple(sorted(removed - paired)),
        tuple(sorted(named_once)),
    )


def owner_unseen(gone: Iterable[Finding], newer: Mapping[str, HostSnapshot]) -> list[Finding]:
    """The findings of ``gone`` that named their listener's process, where the newer run
    still lists the listener but names no process for it (audited without root, say): a
    rule that matches by process could not judge it there. It is not resolved."""
    unnamed = {
        (host, s.proto.value, s.local_address, s.local_interface, s.local_port)
        for host, snapshot in newer.items()
        for s in snapshot.listeners
        if not s.program_names
    }
    found = []
    for finding in gone:
        socket = finding.socket
        if socket is None or not socket.program_names:
            continue
        where = (finding.host, socket.proto.value, socket.local_address)
        if (*where, socket.local_interface, socket.local_port) in unnamed:
            found.append(finding)
    return found


def _where(finding: Finding) -> _Where | None:
    socket = finding.socket
    if socket is None:
        return None
    return (
        finding.host,
        finding.rule_id,
        socket.proto.value,
        socket.local_address,
        socket.local_interface,
        socket.local_port,
    )


def _named(finding: Finding) -> bool:
    return bool(finding.socket is not None and finding.socket.program_names)
