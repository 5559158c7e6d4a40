"""Builders for policy tests: policies from YAML text and sockets from real RawSocket data."""

from __future__ import annotations

import textwrap

from fleetaudit.model import (
    Family,
    Proto,
    RawProcess,
    RawSocket,
    Socket,
    SocketState,
    Tool,
)
from fleetaudit.policy import Policy, parse_policy
from tests.factories import sock


def policy(body: str, name: str = "test.yaml") -> Policy:
    """A policy from YAML text (dedented), as the loader reads a file."""
    return parse_policy(textwrap.dedent(body), name)


def connected(
    local: str = "10.0.0.5",
    port: int = 8080,
    peer: str = "10.0.0.9",
    peer_port: int = 50000,
    process: str | None = "java",
    *,
    recv_q: int = 0,
    send_q: int = 0,
    state: SocketState = SocketState.ESTABLISHED,
    proto: Proto = Proto.TCP,
) -> Socket:
    """A connected (non-LISTEN) socket with the given queues."""
    family = Family.IPV6 if ":" in local else Family.IPV4
    processes = (RawProcess(process, 1410, 140),) if process else ()
    return Socket.from_raw(
        RawSocket(
            tool=Tool.SS,
            proto=proto,
            family=family,
            state=state,
            recv_q=recv_q,
            send_q=send_q,
            local_address=local,
            local_port=port,
            local_interface=None,
            peer_address=peer,
            peer_port=peer_port,
            processes=processes,
            owner_known=True,
        )
    )


def unknown_owner(address: str = "0.0.0.0", port: int = 3306) -> Socket:
    """A listener seen without privilege: the tool could not name its process."""
    return sock(address, port, None, owner_known=False)
