"""Fleet totals that several formats show: computed once, from the run alone."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from fleetaudit.model.enums import BindScope, HostKeyPolicy, HostStatus, Privilege, Severity, Tool

if TYPE_CHECKING:
    from fleetaudit.model.host import HostSnapshot
    from fleetaudit.model.run import RunResult


@dataclass(frozen=True, slots=True)
class Summary:
    """Counts over a run, in fixed key order so that output is stable."""

    hosts_total: int
    hosts_audited: int
    hosts_by_status: dict[str, int]
    hosts_unprivileged: tuple[str, ...]
    hosts_without_host_key_check: tuple[str, ...]
    """Hosts reached over SSH without verifying their key; saved captures are never listed
    (no SSH, no key to verify)."""
    listeners: int
    listeners_by_scope: dict[str, int]
    findings_by_severity: dict[str, int]
    """Active findings (no unexpired waiver) per severity."""
    findings_waived: int
    waivers_expired: int
    """Findings whose waiver has expired: they count again."""
    parse_errors: int


def counted(count: int, noun: str) -> str:
    """``"1 host"``, ``"3 hosts"``: the count with its noun in the right number (the nouns
    used here all take a plain ``s``)."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def first_names(names: Sequence[str], shown: int) -> str:
    """``"a, b, c and 795 more"``: the first ``shown`` names and how many were left out, so
    that 800 hosts failing alike make one readable line."""
    more = len(names) - shown
    return ", ".join(names[:shown]) + (f" and {more} more" if more > 0 else "")


def host_keys_label(run: RunResult) -> str:
    """How the run's host-key policy reads in a report header: its value, except for a run
    without SSH, whose token alone (``not-applicable``) would not say why, and a run of
    ``transport: local`` hosts only, which checked no host key whatever the policy."""
    if run.host_key_policy is HostKeyPolicy.NOT_APPLICABLE:
        return "not applicable (saved captures, no SSH)"
    if only_local_hosts(run):
        return "not applicable (local hosts only, no SSH)"
    return run.host_key_policy.value


UNVERIFIED_HOST_KEY = (
    "host key NOT verified (--insecure-no-host-key-check): the host could have been "
    "impersonated, and its results prove nothing"
)
"""Said of each host audited over SSH without verifying its key, by the formats that speak
per host (SARIF, JUnit); the others say it once for the run."""


def unverified_hosts(run: RunResult) -> tuple[HostSnapshot, ...]:
    """The hosts audited over SSH without verifying their key (a host that could not be
    reached sent nothing to doubt; it is reported as not audited)."""
    return tuple(s for s in run.snapshots if s.host_key_checked is False and s.status.audited)


def only_local_hosts(run: RunResult) -> bool:
    """Whether every host of the run was reached without SSH (``transport: local``), so
    that no host key was, or could have been, checked."""
    return bool(run.snapshots) and all(s.host_key_checked is None for s in run.snapshots)


def summarize(run: RunResult) -> Summary:
    """Totals for ``run``."""
    statuses = Counter(s.status.value for s in run.snapshots)
    scopes = Counter(sock.bind_scope.value for s in run.snapshots for sock in s.listeners)
    severities = Counter(f.severity.value for f in run.active_findings)
    audited = [s for s in run.snapshots if s.status is HostStatus.OK]
    return Summary(
        hosts_total=len(run.snapshots),
        hosts_audited=len(audited),
        hosts_by_status={st.value: statuses[st.value] for st in HostStatus if statuses[st.value]},
        hosts_unprivileged=tuple(
            s.host
            for s in audited
            if s.privilege is Privilege.UNPRIVILEGED and s.tool is not Tool.PROC
        ),
        hosts_without_host_key_check=tuple(s.host for s in unverified_hosts(run)),
        listeners=sum(scopes.values()),
        listeners_by_scope={sc.value: scopes[sc.value] for sc in BindScope},
        findings_by_severity={sv.value: severities[sv.value] for sv in reversed(Severity)},
        findings_waived=sum(1 for f in run.findings if f.waived),
        waivers_expired=sum(1 for f in run.findings if f.waiver and f.waiver.expired),
        parse_errors=sum(len(s.parse_errors) for s in run.snapshots),
    )
