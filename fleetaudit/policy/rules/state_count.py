"""``state-count``: too many sockets in one state, per host or per process.

Many CLOSE_WAIT sockets mean a program does not close connections its peers have closed (a
descriptor leak that ends in "too many open files"); a flood of TIME_WAIT on a client means
it opens a new connection per request and may run out of ephemeral ports; many SYN_RECV
mean half-open connections (a SYN flood, or an accept queue that is full).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from typing import Annotated, Literal

from pydantic import BeforeValidator, Field

from fleetaudit.model.enums import SocketState
from fleetaudit.model.finding import Finding
from fleetaudit.model.host import HostSnapshot
from fleetaudit.model.socket import OWNER_UNKNOWN, Socket
from fleetaudit.policy.matchers import Lean, SocketMatch, as_tuple
from fleetaudit.policy.rules.interface import Rule

_NO_PROCESS = "(no process)"


class StateCountRule(Rule):
    """More than ``max`` matching sockets in one of ``state`` on a host (``per: host``) or
    held by one process name (``per: process``)."""

    kind: Literal["state-count"]
    state: Annotated[tuple[SocketState, ...], BeforeValidator(as_tuple)] = Field(min_length=1)
    max: int = Field(ge=0)
    per: Literal["host", "process"] = "host"
    match: SocketMatch = SocketMatch()

    def concerns(self, socket: Socket) -> str | None:
        """Sockets in a counted state are counted."""
        if socket.state in self.state and self.match.matches(socket, Lean.REPORT):
            return f"counted by {self.id}"
        return None

    def check(self, snapshot: HostSnapshot, applicable: Sequence[Rule]) -> Iterator[Finding]:
        """One finding per host or per process over the limit, largest count first."""
        counts = Counter(
            self._owner(socket)
            for socket in snapshot.sockets
            if socket.state in self.state and self.match.matches(socket, Lean.REPORT)
        )
        states = "/".join(state.value for state in self.state)
        for owner, count in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
            if count <= self.max:
                continue
            who = snapshot.host if self.per == "host" else f"{owner} on {snapshot.host}"
            what = f"{who}: {count} sockets in {states} (limit {self.max})"
            yield self.finding(snapshot, None, what, owner)

    def _owner(self, socket: Socket) -> str:
        if self.per == "host":
            return ""
        if socket.processes:
            # By program, as everywhere a rule names processes: netstat's 'nginx: master'
            # and 'nginx: worker p' are the one nginx that ss shows.
            return ",".join(socket.program_names)
        return _NO_PROCESS if socket.owner_known else OWNER_UNKNOWN
