"""``backlog``: a listener whose accept queue is (nearly) full.

On a LISTEN socket the accept queue is Recv-Q (connections the kernel completed that the
program has not yet accepted). ``ss`` prints the backlog limit as Send-Q; ``netstat`` and
``/proc/net`` print 0 there, so the limit is unknown. With a known limit the rule fires at
``fraction`` of it (0.8 = 80 %); with an unknown one at ``min_queue`` connections.

One sample is one moment: a brief burst can trip it. With ``run --samples N`` the queue must
be over the threshold in every sample, and the message adds how much the kernel's
ListenOverflows/ListenDrops counters grew meanwhile (connections it dropped). The fix is
usually in the application (more accept threads, raise ``listen()``'s backlog and
``net.core.somaxconn``) or upstream (SYN flood protection).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Literal

from pydantic import Field

from fleetaudit.model.enums import SocketState
from fleetaudit.model.finding import Finding
from fleetaudit.model.host import HostSnapshot
from fleetaudit.model.socket import Socket
from fleetaudit.policy.matchers import Lean, SocketMatch
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

    def concerns(self, socket: Socket) -> str | None:
        """LISTEN sockets the match picks have their accept queue checked."""
        if socket.state is SocketState.LISTEN and self.match.matches(socket, Lean.REPORT):
            return f"accept queue checked by {self.id}"
        return None

    def check(self, snapshot: HostSnapshot, applicable: Sequence[Rule]) -> Iterator[Finding]:
        """One finding per LISTEN socket over the threshold in every sample."""
        for socket in snapshot.sockets:
            if socket.state is not SocketState.LISTEN or not self.match.matches(
                socket, Lean.REPORT
            ):
                continue
            queues = [recv for recv, _ in snapshot.queues_over_samples(socket)]
            over = [self._over(queue, socket.backlog_limit) for queue in queues]
            if all(text is not None for text in over):
                what = f"{describe_listener(socket)} with {over[-1]}"
                what += _persistence(snapshot, queues)
                yield self.finding(snapshot, socket, f"{what}: {_CONSEQUENCE}")

    def _over(self, queue: int, limit: int | None) -> str | None:
        """The queue in words when it is over the threshold, else None."""
        if not queue:
            return None
        if limit is None:
            if queue < self.min_queue:
                return None
            return f"accept queue {queue} (backlog limit unknown with this tool)"
        if queue < self.fraction * limit:
            return None
        return f"accept queue {queue}/{limit}"


def _persistence(snapshot: HostSnapshot, queues: list[int]) -> str:
    if snapshot.samples < 2:
        return ""
    text = f" in all {snapshot.samples} samples ({', '.join(map(str, queues))})"
    counters = [
        f"{name} +{value}"
        for name, value in (
            ("ListenOverflows", snapshot.listen_overflows),
            ("ListenDrops", snapshot.listen_drops),
        )
        if value is not None
    ]
    if counters:
        text += f"; kernel counters over the sampling: {', '.join(counters)}"
    return text
