"""``forbidden``: any listener the rule's ``match`` picks is a finding.

For services that should not run at all (telnet, rsh, tftp) or not in a given way (X11 on
anything but loopback: ``match: {port: 6000-6063, not: {scope: loopback}}``).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Literal

from fleetaudit.model.finding import Finding
from fleetaudit.model.host import HostSnapshot
from fleetaudit.policy.matchers import SocketMatch
from fleetaudit.policy.rules.interface import Rule, describe_listener, owner_note


class ForbiddenRule(Rule):
    """Listeners picked by ``match`` must not exist."""

    kind: Literal["forbidden"]
    match: SocketMatch

    def check(self, snapshot: HostSnapshot, applicable: Sequence[Rule]) -> Iterator[Finding]:
        """One finding per matched listener."""
        for socket in snapshot.listeners:
            if self.match.matches(socket):
                what = describe_listener(socket) + owner_note(snapshot, socket)
                yield self.finding(snapshot, socket, what)
