"""``coverage``: hosts the audit could not see fully, reported as findings of their own.

These gaps make the other rules' silence untrustworthy:

- **Unprivileged audit** (sockets whose owner is unknown): ``ss -p``/``netstat -p``
  cannot name other users' processes without privilege, and ``/proc/net`` or a netstat
  without ``-p`` names none even for root, so process-based rules could not judge those
  sockets (rules with a port fell back to it). An unprivileged listing that names every
  owner lost nothing: no finding. Severity: ``severity``. For a saved capture
  judged without ``--privileged`` the advice is about how it was taken (it had no login and
  no become to fix).
- **No host-key check**: the run skipped host-key verification for the host, so the listing
  may come from an impostor. Severity: ``host_key_severity``. Not raised for a saved capture
  (``host_key_checked`` None): no SSH connection was made, so no key was skipped.
- **Unread lines**: lines of the listing could not be read (an address netstat may have
  cut, a shape no parser knows), so the sockets on them were not judged at all.
  Severity: ``unread_severity``.
- **Partial listing**: sockets, but not one listening (no TCP ``LISTEN``, no UDP
  ``UNCONN``). A live host always has a listener (sshd, at least), so this cannot be a whole
  ``-a`` listing: it was taken without ``-a``/``-l`` (``ss -tunp`` lists only connections)
  or with a one-state filter, and every listener the other rules judge is missing. Like
  unread lines, its sockets were not judged, hence the same ``unread_severity``.
- **Cut listing**: the listing lacks this audit's own SSH connection, which the host's SSH
  server reported (``audit_connection``): it ended early or was altered, and what it lost
  was not judged (a listing cut between two lines reads as whole otherwise). Severity:
  ``unread_severity``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Literal

from fleetaudit.model.enums import Severity
from fleetaudit.model.finding import Finding
from fleetaudit.model.host import HostSnapshot, split_privilege_note
from fleetaudit.policy.matchers import owner_visible
from fleetaudit.policy.rules.interface import Rule, owner_gap

GAPS = ("unprivileged", "host-key", "unread", "partial", "cut")
"""The kinds of gap the rule reports (each a finding's ``aspect``), which a waiver's ``gap:``
names: owners unknown, host key not verified, unread lines, no listener, cut listing."""


class CoverageRule(Rule):
    """Hosts audited without privilege, without a host-key check, with unread lines, or
    whose listing is only part of one (no listener, or not this audit's own connection)."""

    kind: Literal["coverage"]
    severity: Severity = Severity.MEDIUM
    host_key_severity: Severity = Severity.HIGH
    unread_severity: Severity = Severity.HIGH

    def check(self, snapshot: HostSnapshot, applicable: Sequence[Rule]) -> Iterator[Finding]:
        """At most one finding per gap, host-level (no socket)."""
        # Without privilege, only the owners go unseen: a listing naming every owner lost
        # nothing (QA: "0 of 21 sockets have an unknown owner, so rules ... could not judge
        # them").
        unknown = sum(1 for s in snapshot.sockets if not owner_visible(s))
        if unknown:
            yield self.finding(snapshot, None, _unprivileged(snapshot, unknown), "unprivileged")
        if snapshot.host_key_checked is False:  # None: a capture, no SSH, nothing skipped
            what = (
                f"{snapshot.host} was audited without host-key verification: the listing may "
                "come from an impostor. Put its key in known_hosts (or use --accept-new once) "
                "and run without --insecure-no-host-key-check"
            )
            yield self.finding(snapshot, None, what, "host-key", severity=self.host_key_severity)
        if snapshot.parse_errors:
            yield self.finding(
                snapshot, None, _unread(snapshot), "unread", severity=self.unread_severity
            )
        if snapshot.lacks_listeners:
            yield self.finding(
                snapshot, None, _partial(snapshot), "partial", severity=self.unread_severity
            )
        elif snapshot.lacks_own_connection:
            yield self.finding(snapshot, None, _cut(snapshot), "cut", severity=self.unread_severity)


def _unprivileged(snapshot: HostSnapshot, unknown: int) -> str:
    blind = (
        f"{unknown} of {len(snapshot.sockets)} sockets have an unknown owner, so rules "
        "matching by process could not judge them (rules with a port judged them by port)"
    )
    gap = owner_gap(snapshot)
    if not gap.privilege:
        return f"{snapshot.host}: {gap.because}: {blind}. {gap.remedy}"
    note, _ = split_privilege_note(snapshot.privilege_note or "")
    why = f" ({note})" if note else ""  # its fix is the remedy
    return f"{snapshot.host} was audited without privilege{why}: {blind}. {gap.remedy}"


def _unread(snapshot: HostSnapshot) -> str:
    first = snapshot.parse_errors[0]
    count = len(snapshot.parse_errors)
    return (
        f"{snapshot.host}: {count} line(s) of its listing could not be read, so the sockets "
        f"on them were not judged (first, line {first.line}: {first.reason})"
    )


def _partial(snapshot: HostSnapshot) -> str:
    count = len(snapshot.sockets)
    return (
        f"{snapshot.host}: its listing has {count} socket(s) but not one listening (no TCP "
        "LISTEN, no UDP UNCONN), so it cannot be a whole listing of a live host (sshd or "
        "something always listens) and the host's listeners were not judged: it was most "
        "likely taken without -a/-l (ss -tunp, netstat -tunp list only connections) or with "
        "a one-state filter (state established); take it with ss -tuanpe"
    )


def _cut(snapshot: HostSnapshot) -> str:
    server, client = snapshot.audit_connection or (0, 0)
    return (
        f"{snapshot.host}: its listing lacks this audit's own SSH connection (port {server} "
        f"from port {client}, as the host's SSH server reported it), which a whole "
        "listing holds: the listing tool's output ended early or was altered, and the "
        "sockets it lost were not judged"
    )
