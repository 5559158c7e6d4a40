"""Golden captures recorded on a real kernel (see tests/fixtures/captures/README.md).

Each capture must re-parse to its stored JSON, and the special sockets the recording script
planted must read correctly in every tool's listing: the same sockets, seen by ss, netstat
and /proc/net, must give the same answers where the tools carry the information.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from fleetaudit.model.socket import Socket
from tests.captures import CAPTURES, UNREADABLE, WITH_LINE_ERRORS, sockets
from tests.factories import as_json

NAMES = sorted(
    path.stem for path in CAPTURES.glob("*.txt") if path.stem not in WITH_LINE_ERRORS | UNREADABLE
)


def find(socks: list[Socket], port: int, state: str = "LISTEN") -> Socket:
    [match] = [s for s in socks if s.local_port == port and s.state.value == state]
    return match


@pytest.mark.parametrize("name", NAMES)
def test_capture_parses_to_its_golden_json(name: str) -> None:
    expected: list[dict[str, Any]] = json.loads((CAPTURES / f"{name}.json").read_text())
    assert [as_json(s) for s in sockets(name)] == expected


def test_full_accept_queue_and_backlog_limit() -> None:
    listener = find(sockets("ss-tuanpe-root"), 7000)
    assert (listener.accept_queue, listener.backlog_limit) == (5, 4)
    for name in ("netstat-tuanpeW-root", "proc-net"):
        listener = find(sockets(name), 7000)
        assert (listener.accept_queue, listener.backlog_limit) == (5, None), name


def test_socket_shared_by_three_processes() -> None:
    shared = find(sockets("ss-tuanpe-root"), 6000)
    assert len(shared.processes) == 3 and len({p.pid for p in shared.processes}) == 3


def test_dual_stack_and_v6only_wildcards() -> None:
    for name in ("ss-tuanpe-root", "ss-tunap", "ss-tlnH"):
        socks = sockets(name)
        assert find(socks, 9000).accepts_ipv4 is True, name
        assert find(socks, 8443).accepts_ipv4 is False, name
        assert find(socks, 9000).local_address == find(socks, 8443).local_address == "::"
    assert find(sockets("netstat-tuanpeW-root"), 9000).accepts_ipv4 is None


def test_closing_states_and_mapped_clients() -> None:
    socks = sockets("ss-tuanpe-root")
    close_wait = find(socks, 7100, "CLOSE_WAIT")
    assert (close_wait.recv_q, close_wait.process_names) == (1, ("python3",))
    [time_wait] = [s for s in socks if s.state.value == "TIME_WAIT"]
    assert (time_wait.peer_port, time_wait.processes, time_wait.owner_known) == (7200, (), True)
    for name in ("ss-tuanpe-root", "netstat-tuanpeW-root", "proc-net"):
        mapped = find(sockets(name), 9000, "ESTABLISHED")
        assert mapped.local_address == "::ffff:127.0.0.1", name


def test_unread_udp_data_and_odd_process_names() -> None:
    socks = sockets("ss-tuanpe-root")
    assert find(socks, 5400, "UNCONN").recv_q > 0
    assert find(socks, 7300).process_names == ("my server",)


def test_unprivileged_captures_never_claim_to_know_owners() -> None:
    for name in ("ss-tuanp-user", "netstat-tunap-user"):
        socks = sockets(name)
        assert socks and all(not s.owner_known and not s.processes for s in socks), name


def _listeners(name: str) -> set[tuple[str, str, int | None, str]]:
    return {
        (s.proto.value, s.local_address, s.local_port, s.bind_scope.value)
        for s in sockets(name)
        if s.state.value in ("LISTEN", "UNCONN")
    }


def test_every_tool_sees_the_same_listeners() -> None:
    reference = _listeners("ss-tuanpe-root")
    assert len(reference) >= 12
    for name in ("ss-tunap", "ss-tuanp-user", "netstat-tuanpeW-root", "netstat-tunap-user"):
        assert _listeners(name) == reference, name
    assert _listeners("proc-net") == reference
