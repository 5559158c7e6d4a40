"""netstat without -n and without -W: a host name, or an IPv4 address followed by a service
name, is cut to the 23-character column like a long IPv6 address, into a valid but wrong
address (10.77.0.123:ms-wbt-server prints as 10.77.0.1:ms-wbt-server; 203.0.113.7, named
localhost-gw.example.net, as localhost). Such lines are reported, never guessed.

The lines are real net-tools 2.10 and busybox 1.35 output (`netstat -tlp`, `busybox netstat
-tua`), taken in a network namespace whose /etc/hosts named its addresses."""

from __future__ import annotations

from fleetaudit.model import Family
from fleetaudit.parse import netstat

HEADER = (
    "Active Internet connections (only servers)\n"
    "Proto Recv-Q Send-Q Local Address           Foreign Address         State       "
    "PID/Program name    \n"
)
# 10.77.0.123:3389, 192.168.10.15:587 and 203.0.113.7:3389 (named localhost-gw.example.net)
CUT = (
    "tcp        0      0 10.77.0.1:ms-wbt-server 0.0.0.0:*               LISTEN      "
    "12771/python3       \n"
    "tcp        0      0 192.168.10.1:submission 0.0.0.0:*               LISTEN      "
    "12771/python3       \n"
    "tcp        0      0 localhost:ms-wbt-server 0.0.0.0:*               LISTEN      "
    "8723/python3        \n"
)
WHOLE = (
    "tcp        0      0 0.0.0.0:nfs             0.0.0.0:*               LISTEN      "
    "15437/python3       \n"
    "tcp        0      0 localhost:domain        0.0.0.0:*               LISTEN      "
    "15451/dnsmasq       \n"
)


def test_a_name_that_fills_the_column_is_a_line_error_not_a_wrong_address() -> None:
    result = netstat.parse(HEADER + CUT + WHOLE, privileged=True)
    assert [error.line for error in result.errors] == [3, 4, 5]
    assert all("may have been cut" in error.reason for error in result.errors)
    assert "capture with netstat -W" in result.errors[0].reason
    assert [(s.local_address, s.local_port) for s in result.sockets] == [
        ("0.0.0.0", 2049),
        ("localhost", 53),
    ]


def test_taken_with_w_the_same_lines_are_read() -> None:
    result = netstat.parse(HEADER + CUT, privileged=True, wide=True)
    assert not result.errors
    assert [s.local_port for s in result.sockets] == [3389, 587, 3389]


def test_a_longer_name_shows_the_capture_is_wide() -> None:
    longer = (
        "tcp        0      0 db-internal.corp.example.com:9001 0.0.0.0:*               "
        "LISTEN      15437/python3       \n"
    )
    result = netstat.parse(HEADER + CUT + longer, privileged=True)
    assert not result.errors
    assert len(result.sockets) == 4


def test_numeric_ipv4_never_fills_the_column() -> None:
    """255.255.255.255:65535 is 21 characters: a -n capture of IPv4 sockets is never cut."""
    line = (
        "tcp        0      0 203.0.113.255:65535     198.51.100.255:65535    ESTABLISHED "
        "12771/python3       \n"
    )
    assert not netstat.parse(HEADER + line, privileged=True).errors


BUSYBOX = (
    "Active Internet connections (servers and established)\n"
    "Proto Recv-Q Send-Q Local Address           Foreign Address         State       \n"
    "tcp        0      0 localhost:9009          :::*                    LISTEN      \n"
    "tcp        0      0 v6host.example.com:11211 :::*                   LISTEN      \n"
    "tcp        0      0 localhost:9006          0.0.0.0:*               LISTEN      \n"
    "tcp        0      0 2001:db8:c17:1a::9:8444 :::*                    LISTEN      \n"
)


def test_busybox_ipv6_sockets_shown_by_name_are_ipv6() -> None:
    """busybox labels IPv6 lines `tcp`; without -n only the `:::*` peer shows the family."""
    result = netstat.parse(BUSYBOX)
    assert [(s.local_address, s.family) for s in result.sockets] == [
        ("localhost", Family.IPV6),
        ("v6host.example.com", Family.IPV6),
        ("localhost", Family.IPV4),
        ("2001:db8:c17:1a::9", Family.IPV6),
    ]


def test_busybox_never_cuts_so_its_full_column_is_read() -> None:
    """Its IPv6 line of exactly 23 characters is whole (busybox prints addresses whole),
    with no longer address to show it: busybox labels it `tcp`, net-tools would `tcp6`."""
    lines = BUSYBOX.splitlines(keepends=True)
    result = netstat.parse("".join(lines[:2] + lines[-1:]))
    assert not result.errors
    assert [s.local_port for s in result.sockets] == [8444]
