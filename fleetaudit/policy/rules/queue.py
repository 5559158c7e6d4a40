"""``queue``: data piling up on a connected socket.

On a connected TCP socket Recv-Q is bytes received that the program has not read (it is
stuck or overloaded) and Send-Q is bytes sent that the peer has not acknowledged (the peer
or the network is not taking data). On a UDP socket, connected or not, Recv-Q is datagrams'
bytes waiting in the receive buffer: the program is not reading, and the kernel drops what
no longer fits. UDP's Send-Q says nothing about a peer (nothing is acknowledged), so it is
not judged. LISTEN sockets are the ``backlog`` rule's business: their queues mean
something else.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Literal, Self

from pydantic import Field, model_validator

from fleetaudit.model.enums import Proto, SocketState
from fleetaudit.model.finding import Finding
from fleetaudit.model.host import HostSnapshot
from fleetaudit.model.socket import Socket
from fleetaudit.policy.matchers import Lean, SocketMatch, invalid
from fleetaudit.policy.rules.interface import Rule

_RECV = "data has arrived that the program is not reading (stuck or overloaded)"
_SEND = "sent data is not being acknowledged (the peer or the network is not taking it)"


class QueueRule(Rule):
    """Connected sockets with Recv-Q >= ``recv_bytes`` or Send-Q >= ``send_bytes``."""

    kind: Literal["queue"]
    recv_bytes: int | None = Field(default=None, ge=1)
    send_bytes: int | None = Field(default=None, ge=1)
    match: SocketMatch = SocketMatch()

    @model_validator(mode="after")
    def _has_threshold(self) -> Self:
        if self.recv_bytes is None and self.send_bytes is None:
            raise invalid("give recv_bytes, send_bytes or both")
        return self

    def concerns(self, socket: Socket) -> str | None:
        """Connected sockets the match picks have their queues checked."""
        if socket.state is not SocketState.LISTEN and self.match.matches(socket, Lean.REPORT):
            return f"queues checked by {self.id}"
        return None

    def check(self, snapshot: HostSnapshot, applicable: Sequence[Rule]) -> Iterator[Finding]:
        """A finding per socket and per queue over its threshold in every sample (Recv-Q
        first)."""
        for socket in snapshot.sockets:
            if socket.state is SocketState.LISTEN or not self._may_be_over(socket):
                continue
            if not self.match.matches(socket, Lean.REPORT):
                continue
            samples = snapshot.queues_over_samples(socket)
            recv = [pair[0] for pair in samples]
            if self.recv_bytes is not None and min(recv) >= self.recv_bytes:
                what = _what(socket, "Recv-Q", socket.recv_q, self.recv_bytes, _RECV)
                yield self.finding(snapshot, socket, what + _all(recv), "recv", _peer(socket))
            send = [pair[1] for pair in samples]
            if self._send_over(socket, min(send)):
                what = _what(socket, "Send-Q", socket.send_q, self.send_bytes or 0, _SEND)
                yield self.finding(snapshot, socket, what + _all(send), "send", _peer(socket))

    def _may_be_over(self, socket: Socket) -> bool:
        """Whether the last sample's queues reach a threshold: a finding needs every sample
        over it, so below it in the last one rules the socket out. Most connections of a
        busy host stop here, before the match and the other samples are looked at."""
        recv_limit, send_limit = self.recv_bytes, self.send_bytes
        return (recv_limit is not None and socket.recv_q >= recv_limit) or (
            send_limit is not None and socket.send_q >= send_limit
        )

    def _send_over(self, socket: Socket, smallest: int) -> bool:
        # NOTE: only TCP acknowledges data, so only TCP's Send-Q says the peer is slow.
        return (
            self.send_bytes is not None
            and socket.proto is Proto.TCP
            and smallest >= self.send_bytes
        )


def _all(sizes: list[int]) -> str:
    if len(sizes) < 2:
        return ""
    return f"; in all {len(sizes)} samples ({', '.join(map(str, sizes))} bytes)"


def _peer(socket: Socket) -> str:
    if socket.peer_address is None or socket.peer_port is None:
        return "*"
    address = socket.peer_address
    return f"[{address}]:{socket.peer_port}" if ":" in address else f"{address}:{socket.peer_port}"


def _what(socket: Socket, queue: str, size: int, limit: int, meaning: str) -> str:
    owner = ", ".join(socket.process_names) or socket.owner_label
    where = f"{socket.endpoint}/{socket.proto.value} <-> {_peer(socket)} ({socket.state.value})"
    return f"{owner} {where}: {queue} {size} bytes (threshold {limit}): {meaning}"
