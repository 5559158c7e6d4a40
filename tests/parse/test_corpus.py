"""Every socket table of the jc corpus parses, and agrees with jc's reference parse.

The corpus (``tests/fixtures/corpus``, MIT, from the jc project) holds real captures from
CentOS 7, Ubuntu 18.04, Fedora 32 and newer iproute2. Each record is compared with jc's on
the fields both tools read; where fleetaudit's reading differs on purpose, the normalisation
below names the difference and why fleetaudit's reading is the right one for an audit.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from fleetaudit.errors import CaptureError
from fleetaudit.model.enums import Tool
from fleetaudit.model.raw import RawSocket
from fleetaudit.parse import parse_capture
from fleetaudit.parse._addr import SERVICE_PORTS

CORPUS = Path(__file__).parents[1] / "fixtures" / "corpus"
MANIFEST = json.loads((CORPUS / "manifest.json").read_text())["fixtures"]
SOCKET_TABLES = [f for f in MANIFEST if f["content"] == "sockets"]
OTHER_TABLES = [f for f in MANIFEST if f["content"] != "sockets"]

SS_STATE = {"ESTAB": "ESTABLISHED", "UNCONN": "UNCONN"}
View = tuple[Any, ...]


def _port(text: str | None) -> int | None:
    if text in (None, "*"):
        return None
    assert text is not None
    return int(text) if text.isdigit() else SERVICE_PORTS[text]


def _address(text: str, family: str) -> str:
    text = text.strip("[]")
    # Divergence 1: jc keeps ss's "*". Old ss printed it for IPv4 any, newer ss for a
    # dual-stack IPv6 any; fleetaudit names the real wildcard so one form means one thing.
    if text == "*":
        return "::" if family == "ipv6" else "0.0.0.0"
    return text


def _jc_ss(record: dict[str, Any], ours: RawSocket) -> View:
    opts = record.get("opts", {})
    # Divergence 2: jc keys processes by pid, so a pid holding the socket on two fds
    # collapses into one entry; fleetaudit keeps every (pid, fd).
    pids = sorted(set(opts.get("process_id", {})))
    return (
        record["netid"],
        SS_STATE.get(record["state"], record["state"].replace("-", "_").replace("_WAIT_", "_WAIT")),
        record["recv_q"],
        record["send_q"],
        _address(record["local_address"], ours.family.value),
        _port(record["local_port"]),
        record.get("interface"),
        _address(record["peer_address"], ours.family.value),
        _port(record["peer_port"]),
        pids,
    )


def _jc_netstat(record: dict[str, Any], ours: RawSocket) -> View:
    pid = record.get("pid")
    return (
        record["transport_protocol"],
        # Divergence 3: jc leaves an unconnected UDP socket's state null; it is UNCONN.
        record["state"] or "UNCONN",
        record["recv_q"],
        record["send_q"],
        _address(record["local_address"], ours.family.value),
        _port(record["local_port"]),
        None,
        _address(record["foreign_address"], ours.family.value),
        _port(record["foreign_port"]),
        [str(pid)] if pid is not None else [],
        record.get("program_name"),
    )


def _ours(sock: RawSocket, tool: Tool) -> View:
    view: View = (
        sock.proto.value,
        sock.state.value,
        sock.recv_q,
        sock.send_q,
        sock.local_address,
        sock.local_port,
        sock.local_interface,
        sock.peer_address,
        sock.peer_port,
        sorted({str(p.pid) for p in sock.processes}),
    )
    if tool is Tool.NETSTAT:
        view = (*view[:6], None, *view[7:], sock.processes[0].name if sock.processes else None)
    return view


def _is_audited(record: dict[str, Any]) -> bool:
    kind = record.get("netid") or record.get("transport_protocol") or ""
    return kind in ("tcp", "udp") and record.get("kind", "network") == "network"


def _cut_by_netstat(text: str) -> list[bool]:
    """For each tcp/udp line of a netstat capture, in order: whether an endpoint fills the
    23-character column. Divergence 4: net-tools without -W (these captures lack -n too)
    cuts a host name to fit it, ``localhost.localdoma:ssh`` for localhost.localdomain,
    ``lb-192-30-253-113:https`` for a name under github.com; jc reads the cut name as the
    address, fleetaudit reports the line as possibly cut (tests/parse/test_netstat_names_cut.py)."""
    rows = [line.split() for line in text.splitlines()]
    widths = [
        max(len(r[3]), len(r[4])) for r in rows if r and r[0] in ("tcp", "tcp6", "udp", "udp6")
    ]
    wide = max(widths, default=0) > 23  # a longer endpoint: taken with -W, nothing cut
    return [width == 23 and not wide for width in widths]


@pytest.mark.parametrize("fixture", SOCKET_TABLES, ids=[f["file"] for f in SOCKET_TABLES])
def test_corpus_socket_tables_agree_with_jc(fixture: dict[str, Any]) -> None:
    text = (CORPUS / fixture["file"]).read_text()
    expected = [r for r in json.loads((CORPUS / fixture["expected"]).read_text()) if _is_audited(r)]
    cut = _cut_by_netstat(text) if fixture["tool"] == "netstat" else [False] * len(expected)
    if all(cut):
        with pytest.raises(CaptureError, match="may have been cut; capture with netstat -W"):
            parse_capture(text, privileged="sudo" in fixture["file"])
        return
    tool, result = parse_capture(text, privileged="sudo" in fixture["file"])
    assert tool.value == fixture["tool"]
    assert len(result.errors) == sum(cut)
    assert all("may have been cut" in error.reason for error in result.errors)
    expected = [record for record, was_cut in zip(expected, cut, strict=True) if not was_cut]
    assert len(result.sockets) == len(expected)
    convert = _jc_ss if tool is Tool.SS else _jc_netstat
    for ours, theirs in zip(result.sockets, expected, strict=True):
        assert _ours(ours, tool) == convert(theirs, ours), f"line {ours.line}"


@pytest.mark.parametrize("fixture", OTHER_TABLES, ids=[f["file"] for f in OTHER_TABLES])
def test_route_and_interface_tables_are_refused_not_read_as_empty(fixture: dict[str, Any]) -> None:
    with pytest.raises(CaptureError, match="not a socket listing"):
        parse_capture((CORPUS / fixture["file"]).read_text())
