"""``forbidden``: any listener the rule's ``match`` picks is a finding.

For services that should not run at all (telnet, rsh, tftp) or not in a given way (X11 on
anything but loopback: ``match: {port: 6000-6063, not: {scope: loopback}}``).

A match here leads to a finding, so a fact the listing could not establish (whether
``:::3306`` from netstat also takes IPv4) counts as met (:attr:`Lean.REPORT`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Literal

from fleetaudit.model.finding import Finding
from fleetaudit.model.host import HostSnapshot
from fleetaudit.model.socket import Socket
from fleetaudit.policy.matchers import Lean, SocketMatch, owner_judgement
from fleetaudit.policy.rules.interface import Rule, describe_listener, doubt_notes


class ForbiddenRule(Rule):
    """Listeners picked by ``match`` must not exist."""

    kind: Literal["forbidden"]
    match: SocketMatch

    def check(self, snapshot: HostSnapshot, applicable: Sequence[Rule]) -> Iterator[Finding]:
        """One finding per matched listener."""
        for socket in snapshot.listeners:
            if self.match.matches(socket, Lean.REPORT):
                what = describe_listener(socket) + doubt_notes(snapshot, socket, (self.match,))
                yield self.finding(snapshot, socket, what)

    def concerns(self, socket: Socket) -> str | None:
        """Nothing for a listener the match leaves alone; for one whose owner nobody could
        see and whose match has no port to stand in for its process, that it could not
        judge it (a forbidden listener could be hiding there)."""
        if not socket.is_listener or self.match.decide(socket, Lean.REPORT) is not None:
            return None
        return f"{self.id} could not judge it: {owner_judgement(self.match, socket, Lean.REPORT)}"
