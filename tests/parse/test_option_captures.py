"""Listings taken with options people add by habit, recorded with ``ss -tuanpe``'s reading
of the same real sockets by tests/fixtures/make_option_captures.sh; see the "Option captures"
section of tests/fixtures/captures/README.md.

Each option changes the text in a way a reader can get silently wrong: ``ss -T`` lists every
thread holding a socket, under the thread's own name; ``ss -o -i -m`` adds timers and a
second, indented line per socket; net-tools ``netstat -o`` adds a Timer column after the
program name, which may itself hold spaces; and ss with a one-state filter prints no State
column at all.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from fleetaudit.errors import CaptureError
from fleetaudit.model.enums import Tool
from fleetaudit.model.socket import Socket
from fleetaudit.parse import parse_capture
from tests.captures import CAPTURES, UNREADABLE, sockets

NAMES = sorted(path.stem for path in CAPTURES.glob("opt-*.txt"))
SS = "opt-ss-tuanpe-root"
THREADS = "opt-ss-tuanpT-root"
INFO = "opt-ss-tuanpeoim-root"
NETSTAT_TIMERS = ("opt-netstat-tuanpo-root", "opt-netstat-tuanpeWo-root")
ONE_STATE = "opt-ss-tnp-established-root"
FILTERED = "opt-ss-tlnp-8602-root"
READABLE = (THREADS, INFO, *NETSTAT_TIMERS)


def test_the_recorded_set_is_complete() -> None:
    assert NAMES == sorted((SS, *READABLE, ONE_STATE, FILTERED))
    assert ONE_STATE in UNREADABLE


def _text(name: str) -> str:
    return (CAPTURES / f"{name}.txt").read_text()


def _identity(s: Socket) -> tuple[Any, ...]:
    # ss prints a LISTEN socket's backlog limit as Send-Q, netstat 0
    send_q = None if s.state.value == "LISTEN" else s.send_q
    return (
        s.proto.value, s.family.value, s.state.value, s.local_address, s.local_port,
        s.peer_address, s.peer_port, s.recv_q, send_q, s.bind_scope.value, s.owner_known,
        tuple((p.name, p.pid) for p in s.processes),
    )  # fmt: skip


@pytest.mark.parametrize("name", READABLE)
def test_every_socket_reads_as_plain_ss_reads_it(name: str) -> None:
    assert Counter(map(_identity, sockets(name))) == Counter(map(_identity, sockets(SS)))


def test_threads_are_one_process_under_the_main_threads_name() -> None:
    text = _text(THREADS)
    # the listener of 8600 is held by three threads, one of them named "worker 1"
    [line] = [line for line in text.splitlines() if "LISTEN" in line and ":8600 " in line]
    assert line.count("tid=") == 3 and '"worker 1"' in line
    [listener] = [s for s in sockets(THREADS) if s.state.value == "LISTEN" and s.local_port == 8600]
    [plain] = [s for s in sockets(SS) if s.state.value == "LISTEN" and s.local_port == 8600]
    assert listener.processes == plain.processes
    assert [(p.name, p.fd) for p in listener.processes] == [("python3", 3)]


def test_timers_and_info_lines_leave_every_field_as_it_was() -> None:
    text = _text(INFO)
    assert "timer:(keepalive," in text and "\n\t skmem:(" in text
    assert sockets(INFO) == sockets(SS)


@pytest.mark.parametrize("name", NETSTAT_TIMERS)
def test_the_netstat_timer_column_is_not_part_of_the_program_name(name: str) -> None:
    text = _text(name)
    for timer in ("off (", "on (", "keepalive (", "timewait ("):
        assert timer in text, timer
    names = {p.name for s in sockets(name) for p in s.processes}
    assert names == {"python3"}


@pytest.mark.parametrize("timer", ["probe (0.20/3/0)", "unkn-7 (1.00/0/0)", "on (12.50/-1/0)"])
def test_every_timer_net_tools_prints_is_taken_off_the_program(timer: str) -> None:
    # the timers this capture could not show: zero-window probe, unknown kinds
    text = _text(NETSTAT_TIMERS[0]).replace("off (0.00/0/0)", timer)
    _, result = parse_capture(text, privileged=True)
    assert not result.errors
    assert {p.name for s in result.sockets for p in s.processes} == {"python3"}


def test_a_udp_line_with_a_peer_and_no_state_is_never_read_as_netstat() -> None:
    text = "udp 0 0 0.0.0.0:5353 10.1.2.3:9999\n"  # what ss -Hn state established prints
    with pytest.raises(CaptureError, match="a UDP socket with a peer but no state"):
        parse_capture(text, tool=Tool.NETSTAT)


@pytest.mark.parametrize("timer", ["off", "off ((0.00/0/0)", "off (/0/0)", "on (1/0/0)"])
def test_a_netstat_timer_column_that_cannot_be_read_is_a_line_error(timer: str) -> None:
    text = _text(NETSTAT_TIMERS[0]).replace("off (0.00/0/0)", timer, 1)
    _, result = parse_capture(text, privileged=True)
    [error] = result.errors
    assert error.line == 3 and "Timer column" in error.reason
    assert len(result.sockets) == len(sockets(NETSTAT_TIMERS[0])) - 1


def test_a_lone_dual_stack_listener_reads_as_ipv6_without_e_or_0000() -> None:
    # current ss prints '*' only for a dual-stack IPv6 socket; with neither `-e` (v6only:)
    # nor a 0.0.0.0 elsewhere in the listing, its Process header shows it is current ss
    text = _text(FILTERED)
    assert "*:8602" in text and "v6only" not in text and "0.0.0.0" not in text
    [alone] = sockets(FILTERED)
    [plain] = [s for s in sockets(SS) if s.state.value == "LISTEN" and s.local_port == 8602]
    assert _identity(alone) == _identity(plain)
    assert (alone.family.value, alone.local_address, alone.accepts_ipv4) == ("ipv6", "::", True)


def test_a_listing_without_the_state_column_is_refused_with_the_reason() -> None:
    with pytest.raises(CaptureError, match="no State column") as refused:
        parse_capture(_text(ONE_STATE), privileged=True)
    assert refused.value.line == 1


@pytest.mark.parametrize(
    "text",
    [
        # the header alone: no socket in that state, but still not the host's table
        "Recv-Q Send-Q Local Address:Port Peer Address:Port Process\n",
        # several protocols keep the Netid column
        "Netid Recv-Q Send-Q Local Address:Port Peer Address:Port Process\n"
        "tcp   0      0      127.0.0.1:22        127.0.0.1:5000\n",
        # -H: no header either
        "0      0          127.0.0.1:32922    127.0.0.1:8600\n",
        'tcp 0 0 127.0.0.1:22 127.0.0.1:5000 users:(("sshd",pid=1,fd=3))\n',
        # -H with Netid but without -p: shapes netstat never prints (a UDP socket with a
        # peer but no ESTABLISHED, a TCP one without a state), or ss's -e extras
        "udp 0      0      127.0.0.1:5353  127.0.0.1:9999\n",
        "tcp 0      0      127.0.0.1:40696 127.0.0.1:3306\n",
        "udp 0 0 0.0.0.0:5353 0.0.0.0:* ino:11134112 sk:1 <->\n",
    ],
)
def test_every_shape_of_a_state_filtered_listing_says_why(text: str) -> None:
    with pytest.raises(CaptureError, match="no State column"):
        parse_capture(text)
