"""``backlog``: a listener whose accept queue is (nearly) full.

On a LISTEN socket the accept queue is Recv-Q (connections the kernel completed that the
program has not yet accepted). ``ss`` prints the backlog limit as Send-Q; ``netstat`` and
``/proc/net`` print 0 there, so the limit is unknown. With a known limit the rule fires at
``fraction`` of it (0.8 = 80 %); with an unknown one at ``min_queue`` connections.

One sample is one moment: a brief burst can trip it. The message says what a persistent one
means; the fix is usually in the application (more accept threads, raise ``listen()``'s
backlog and ``net.core.somaxconn``) or upstream (SYN flood protection).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Literal

from pydantic import Field

from fleetaudit.model.enums import SocketState
from fleetaudit.model.finding import Finding
from fleetaudit.model.host import HostSnapshot
from fleetaudit.model.socket import Socket
from fleetaudit.policy.matchers import SocketMatch
from fleetaudit.policy.rules.interface import Rule, describe_listener

_CONSEQUENCE = (
    "the application is not calling accept() fast enough or a SYN flood is filling it; "
    "connections are being dropped or delayed"
)


class BacklogRule(Rule):
    """LISTEN sockets whose accept queue reaches ``fraction`` of the backlog limit, or
    ``min_queue`` connections when the limit is unknown."""

    kind: Literal["backlog"]
    fraction: float = Field(default=0.8, gt=0, le=1)
    min_queue: int = Field(default=100, ge=1)
    match: SocketMatch = SocketMatch()

    def check(self, snapshot: HostSnapshot, applicable: Sequence[Rule]) -> Iterator[Finding]:
        """One finding per LISTEN socket over the threshold."""
        for socket in snapshot.sockets:
            if socket.state is not SocketState.LISTEN or not self.match.matches(socket):
                continue
            queue_text = self._over(socket)
            if queue_text is not None:
                what = f"{describe_listener(socket)} with {queue_text}: {_CONSEQUENCE}"
                yield self.finding(snapshot, socket, what)

    def _over(self, socket: Socket) -> str | None:
        """The queue in words when it is over the threshold, else None."""
        queue, limit = socket.accept_queue, socket.backlog_limit
        if not queue:
            return None
        if limit is None:
            if queue < self.min_queue:
                return None
            return f"accept queue {queue} (backlog limit unknown with this tool)"
        if queue < self.fraction * limit:
            return None
        return f"accept queue {queue}/{limit}"
