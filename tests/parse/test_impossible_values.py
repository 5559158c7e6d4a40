"""Values no tool prints: a negative queue, a local address that is not one. Each is a line
error with its number, never a socket the policy would then judge (an impossible address is
classified public, and a cut one may match nothing the policy allows)."""

from __future__ import annotations

import pytest

from fleetaudit.model.enums import Tool
from fleetaudit.parse import netstat, parse_capture, proc_net, ss

SS_HEADER = "Netid State  Recv-Q Send-Q Local Address:Port Peer Address:Port Process\n"
NETSTAT_HEADER = (
    "Active Internet connections (servers and established)\n"
    "Proto Recv-Q Send-Q Local Address           Foreign Address         State       "
    "PID/Program name\n"
)


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("tcp LISTEN -5 128 0.0.0.0:80 0.0.0.0:*", "not counts"),
        ("tcp LISTEN 0 -1 0.0.0.0:80 0.0.0.0:*", "not counts"),
        ("tcp LISTEN 4294967296 128 0.0.0.0:80 0.0.0.0:*", "32-bit counters"),
        ("tcp LISTEN 0 " + "1" + "0" * 30 + " 0.0.0.0:80 0.0.0.0:*", "32-bit counters"),
        ("tcp LISTEN 0 128 300.1.1.1:80 0.0.0.0:*", "'300.1.1.1' is not an IPv4 address"),
        ("tcp LISTEN 0 128 10.0.0:80 0.0.0.0:*", "'10.0.0' is not an IPv4 address"),
        ("tcp LISTEN 0 128 [2001:db8::1::2]:80 [::]:*", "is not an IPv6 address"),
        ("tcp LISTEN 0 128 [fe80::1:2:3:4:5:6:7:8]%eth0:80 [::]:*", "is not an IPv6 address"),
    ],
)
def test_ss_impossible_values_are_line_errors(line: str, reason: str) -> None:
    result = ss.parse(SS_HEADER + "tcp LISTEN 0 128 127.0.0.1:22 0.0.0.0:*\n" + line + "\n")
    assert [s.local_port for s in result.sockets] == [22]
    [error] = result.errors
    assert error.line == 3 and reason in error.reason


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("tcp       -5      0 0.0.0.0:80              0.0.0.0:*               LISTEN      1/x",
         "not counts"),
        ("tcp 1" + "0" * 30 + " 0 0.0.0.0:80 0.0.0.0:* LISTEN 1/x", "32-bit counters"),
        ("tcp        0      0 300.1.1.1:80            0.0.0.0:*               LISTEN      1/x",
         "'300.1.1.1' is not an IPv4 address"),
        ("tcp6       0      0 2001:db8:0:1:2:3:4:8443 :::*                    LISTEN      1/x",
         "'2001:db8:0:1:2:3:4' is not an IPv6 address"),
    ],
)  # fmt: skip
def test_netstat_impossible_values_are_line_errors(line: str, reason: str) -> None:
    # wide: the 23-character rule must not be what catches the cut address here
    result = netstat.parse(NETSTAT_HEADER + line + "\n", wide=True)
    assert result.sockets == ()
    [error] = result.errors
    assert error.line == 3 and reason in error.reason


def test_host_names_of_a_capture_without_n_still_parse() -> None:
    result = ss.parse(SS_HEADER + "tcp LISTEN 0 128 db1.example.com:ssh 0.0.0.0:*\n")
    assert [s.local_address for s in result.sockets] == ["db1.example.com"]
    assert result.errors == ()


def test_the_largest_count_a_kernel_prints_still_parses() -> None:
    line = "tcp LISTEN 4294967295 4294967295 0.0.0.0:80 0.0.0.0:*\n"
    [socket] = ss.parse(SS_HEADER + line).sockets
    assert (socket.recv_q, socket.send_q) == (4294967295, 4294967295)


@pytest.mark.parametrize("queues", ["-0000001:00000000", "0x1:00000000", "100000000:00000000"])
def test_proc_net_queues_are_32_bit_hex_counts(queues: str) -> None:
    header = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid\n"
    line = f"   0: 0100007F:0016 00000000:0000 0A {queues} 00:00000000 00000000     0 0 1 1\n"
    result = proc_net.parse("==> /proc/net/tcp <==\n" + header + line)
    assert result.sockets == ()
    assert "tx_queue:rx_queue" in result.errors[0].reason


@pytest.mark.parametrize(
    "cut",
    [
        "tcp LISTEN 0 511 0.0.0.0:80 0.0.0.0:* ino:1640",  # inode 16403371 cut short
        'tcp LISTEN 0 511 0.0.0.0:80 0.0.0.0:* users:(("nginx",pid=1',  # processes cut
        "tcp LISTEN 0 511 0.0.0.0:80 0.0.0.0:*",  # cut before users: reads "no process"
    ],
)
def test_a_capture_cut_inside_its_last_line_does_not_judge_that_line(cut: str) -> None:
    """Every tool ends its output with a newline; a last line without one was cut, and may
    parse into wrong fields. It becomes a line error, whatever it still parses into."""
    text = SS_HEADER + "tcp LISTEN 0 128 127.0.0.1:22 0.0.0.0:*\n" + cut
    _, result = parse_capture(text, tool=Tool.SS, privileged=True)
    assert [s.local_port for s in result.sockets] == [22]
    [error] = result.errors  # cut where it still parses, or where it no longer does
    assert error.line == 3
    _, whole = parse_capture(text + "\n", tool=Tool.SS, privileged=True)
    assert [e.line for e in whole.errors] == ([3] if "users:" in cut else [])  # ended: as read


@pytest.mark.parametrize(
    ("header", "line", "start", "end"),
    [
        (SS_HEADER, "A" * 1_000_000, "unknown Netid or State 'AAA", "AAA'"),
        (
            SS_HEADER,
            "tcp LISTEN 0 128 " + "1" * 1_000_000 + ":80 0.0.0.0:*",
            "'111",
            "111' is not an IPv4 address",
        ),
        (
            NETSTAT_HEADER,
            "tcp 0 0 0.0.0.0:22 0.0.0.0:* " + "Z" * 1_000_000,
            "unknown TCP state 'ZZZ",
            "ZZZ'",
        ),
    ],
    ids=["ss-state", "ss-address", "netstat-state"],
)
def test_a_megabyte_token_gives_a_short_reason(
    header: str, line: str, start: str, end: str
) -> None:
    """A hostile host's one-megabyte token was quoted whole in the line's reason, which
    every report format then carried (48 MB of JSON), and the table wrapped for minutes
    (QA). The reason keeps its start and end; the line's text is cut to 300 characters."""
    good = (
        "tcp LISTEN 0 128 127.0.0.1:25 0.0.0.0:*\n"
        if header is SS_HEADER
        else ("tcp        0      0 127.0.0.1:25            0.0.0.0:*               LISTEN\n")
    )
    _, result = parse_capture(header + good + line + "\n")
    [error] = result.errors
    assert len(error.reason) <= 300
    assert len(error.text) <= 300
    assert error.line == len(header.splitlines()) + 2
    assert error.reason.startswith(start)
    assert error.reason.endswith(end)
    assert " [...] " in error.reason
