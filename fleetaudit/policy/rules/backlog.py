"""``backlog``: a listener whose accept queue is (nearly) full.

On a LISTEN socket the accept queue is Recv-Q (connections the kernel completed that the
program has not yet accepted). ``ss`` prints the backlog limit as Send-Q; ``netstat`` and
``/proc/net`` print 0 there, so the limit is unknown. With a known limit the rule fires at
``fraction`` of it (0.8 = 80 %); with an unknown one at ``min_queue`` connections.

Linux drops a new connection only once the queue holds more than the limit (it holds
limit + 1), so the message says whether the queue is full (connections are being dropped)
or near its limit (they will be once it fills).

One sample is one moment: a brief burst can trip it. With ``run --samples N`` the queue must
be over the threshold in every sample, and the message adds how much the kernel's
ListenOverflows/ListenDrops counters grew meanwhile: counters of the whole host, not of the
listener. When they grew and the rule, watching every listener, found none known to be
full in every sample (netstat and /proc/net show no limit, so a small backlog never reaches
``min_queue``, and one that does is not known to be full; or the queue filled between
samples), the drops are one host-level finding: the only sign of where they came from.
The fix is usually in the application (more accept threads, raise ``listen()``'s backlog
and ``net.core.somaxconn``) or upstream (SYN flood protection).
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

_CAUSE = "the application is not calling accept() fast enough, or a SYN flood is filling it"


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
        """One finding per LISTEN socket over the threshold in every sample; else one for
        the host when the kernel dropped connections during the sampling."""
        explained = False  # the drops, by a listener known to be full
        for socket in snapshot.sockets:
            if socket.state is not SocketState.LISTEN or not self.match.matches(
                socket, Lean.REPORT
            ):
                continue
            queues = [recv for recv, _ in snapshot.queues_over_samples(socket)]
            over = [self._over(queue, socket.backlog_limit) for queue in queues]
            if all(state is not None for state in over):
                known = socket.backlog_limit
                explained = explained or (known is not None and queues[-1] > known)
                limit = "" if known is None else f"/{known}"
                what = f"{describe_listener(socket)} with accept queue {queues[-1]}{limit}"
                what += f"{_samples(snapshot, queues)}, {over[-1]}{_kernel(snapshot)}; {_CAUSE}"
                yield self.finding(snapshot, socket, what)
        if not explained and self.match == SocketMatch() and snapshot.listen_overflows:
            yield self.finding(snapshot, None, _unattributed_drops(snapshot), "dropped")

    def _over(self, queue: int, limit: int | None) -> str | None:
        """What the queue means when it is over the threshold, else None."""
        if not queue:
            return None
        if limit is None:
            if queue < self.min_queue:
                return None
            return (
                "its backlog limit unknown with this tool: once the queue passes it, the "
                "kernel drops new connections"
            )
        if queue > limit:
            return "full: the kernel drops every new connection"
        if queue < self.fraction * limit:
            return None
        return "near its limit: once it is full, the kernel drops new connections"


def _samples(snapshot: HostSnapshot, queues: list[int]) -> str:
    if snapshot.samples < 2:
        return ""
    return f" in all {snapshot.samples} samples ({', '.join(map(str, queues))})"


def _kernel(snapshot: HostSnapshot) -> str:
    counters = _counters(snapshot)
    return (
        f" (the host's kernel counters over the sampling, all listeners: {counters})"
        if counters
        else ""
    )


def _counters(snapshot: HostSnapshot) -> str:
    return ", ".join(
        f"{name} +{value}"
        for name, value in (
            ("ListenOverflows", snapshot.listen_overflows),
            ("ListenDrops", snapshot.listen_drops),
        )
        if value is not None
    )


def _unattributed_drops(snapshot: HostSnapshot) -> str:
    if any(s.backlog_limit is None for s in snapshot.listeners if s.state is SocketState.LISTEN):
        why = (
            "its listing shows no backlog limits (take it with ss), so no queue is known to be "
            "full, and a small backlog never reaches the rule's threshold"
        )
    else:
        why = "the queue that overflowed was below its limit in some sample (a burst)"
    return (
        f"{snapshot.host} dropped connections during the {snapshot.samples} samples (kernel "
        f"counters: {_counters(snapshot)}), but no listener was known to be full in every "
        f"sample, so which one cannot be told: {why}; {_CAUSE}"
    )
