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


def test_header_only_listing_is_a_host_with_no_sockets() -> None:
    tool, result = parse_capture("Netid State Recv-Q Send-Q Local Address:Port Peer Address:Port\n")
    assert (tool, result.sockets, result.errors) == (Tool.SS, (), ())


def test_wrong_forced_dialect_is_an_error_not_an_empty_result() -> None:
    with pytest.raises(CaptureError, match="no line could be read as netstat"):
        parse_capture("tcp LISTEN 0 128 0.0.0.0:22 0.0.0.0:*\n", tool=Tool.NETSTAT, source="x")
