"""Dialect detection, and refusal of text that is not a socket table."""

from __future__ import annotations

import pytest

from fleetaudit.errors import CaptureError
from fleetaudit.model.enums import Tool
from fleetaudit.parse import detect_tool, parse_capture


@pytest.mark.parametrize(
    ("text", "tool"),
    [
        ("Netid State Recv-Q Send-Q Local Address:Port Peer Address:Port\n", Tool.SS),
        ("State Recv-Q Send-Q Local Address:Port Peer Address:Port\n", Tool.SS),
        ("LISTEN 0 128 0.0.0.0:22 0.0.0.0:*\n", Tool.SS),
        ("tcp LISTEN 0 128 0.0.0.0:22 0.0.0.0:*\n", Tool.SS),
        ("Active Internet connections (only servers)\n", Tool.NETSTAT),
        ("tcp 0 0 0.0.0.0:22 0.0.0.0:* LISTEN\n", Tool.NETSTAT),
        ("==> /proc/net/tcp <==\n", Tool.PROC),
        ("  sl  local_address rem_address   st tx_queue rx_queue\n", Tool.PROC),
    ],
)
def test_detects_each_dialect(text: str, tool: Tool) -> None:
    assert detect_tool(text) is tool


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty capture"),
        ("\n  \n", "empty capture"),
        ("sh: 1: ss: not found\n", "not ss, netstat or /proc/net output"),
        ("Kernel IP routing table\nDestination Gateway\n", "routing table"),
        ("default via 10.0.0.1 dev eth0\n", "not ss, netstat"),
    ],
)
def test_refuses_text_that_is_not_a_socket_table(text: str, message: str) -> None:
    with pytest.raises(CaptureError, match=message):
        parse_capture(text, source="web1")


@pytest.mark.parametrize(
    ("text", "tool"),
    [
        ("Netid State Recv-Q Send-Q Local Address:Port Peer Address:Port\n", Tool.SS),
        ("Active Internet connections (servers and established)\n", Tool.NETSTAT),
        (
            "Active Internet connections (servers and established)\n"
            "Proto Recv-Q Send-Q Local Address           Foreign Address         State\n",
            Tool.NETSTAT,
        ),
        ("==> /proc/net/tcp <==\n  sl  local_address rem_address   st tx_queue\n", Tool.PROC),
    ],
)
def test_a_header_without_any_socket_reads_as_no_socket_of_its_tool(text: str, tool: Tool) -> None:
    """The parser's answer for a network namespace with no socket at all (a `transport:
    local` host in an empty namespace is audited as such); saved captures with no socket
    are refused one layer up, by `check`'s loader (tests/cli/test_check_partial_*)."""
    found, result = parse_capture(text, source="paste.txt")
    assert (found, result.sockets, result.errors) == (tool, (), ())


def test_wrong_forced_dialect_is_an_error_not_an_empty_result() -> None:
    with pytest.raises(CaptureError, match="no line could be read as netstat"):
        parse_capture("tcp LISTEN 0 128 0.0.0.0:22 0.0.0.0:*\n", tool=Tool.NETSTAT, source="x")


SS_UNIX_ONLY = """\
Netid State  Recv-Q Send-Q                   Local Address:Port   Peer Address:PortProcess
u_str LISTEN 0      4096   /run/mysqld/mysqld.sock 20311                  * 0
u_str ESTAB  0      0                                    * 1061             * 1062
u_dgr UNCONN 0      0                  /run/systemd/notify 14             * 0
"""
NETSTAT_OTHER_KINDS_ONLY = """\
Active Internet connections (servers and established)
Proto Recv-Q Send-Q Local Address           Foreign Address         State
raw6       0      0 :::58                   :::*                    7
Active UNIX domain sockets (servers and established)
Proto RefCnt Flags       Type       State         I-Node   Path
unix  2      [ ACC ]     STREAM     LISTENING     20311    /run/mysqld/mysqld.sock
"""


@pytest.mark.parametrize(
    ("text", "tool"), [(SS_UNIX_ONLY, Tool.SS), (NETSTAT_OTHER_KINDS_ONLY, Tool.NETSTAT)]
)
def test_a_listing_of_only_other_socket_kinds_is_not_a_clean_host(text: str, tool: Tool) -> None:
    """A pasted `ss -x` must not pass a review as a host with no listeners."""
    with pytest.raises(CaptureError) as info:
        parse_capture(text, tool=tool, source="paste.txt")
    assert "no TCP or UDP socket here" in str(info.value)
    assert "paste.txt" in str(info.value)


def test_the_error_names_the_line_the_quoted_text_is_on() -> None:
    windows = "\r\nActive Connections\r\n\r\n  Proto  Local Address  Foreign Address  State\r\n"
    with pytest.raises(CaptureError) as info:
        detect_tool(windows, source="win.txt")
    assert str(info.value).startswith("win.txt:2: ") and "'Active Connections'" in str(info.value)
