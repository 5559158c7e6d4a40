"""Findings that differ only in whether their listener's owner was named.

A finding's fingerprint holds the listener's program names. When one audit names a
listener's owner and the other cannot (the host audited with and then without root, or a
process another PID namespace hides), the same listener gives two fingerprints, and the
diff read it as one finding resolved and another new: a high finding "resolved" in the
morning mail while the listener was open all along. Such pairs are the same finding.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from fleetaudit.model.finding import Finding

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
