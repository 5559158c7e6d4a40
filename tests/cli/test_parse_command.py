"""`fleetaudit parse`: the socket JSON schema is a public contract."""

from __future__ import annotations

import ipaddress
import json
from pathlib import Path

from fleetaudit.model.socket import Socket
from fleetaudit.parse import parse_capture
from tests.captures import CAPTURES, UNREADABLE, read_capture
from tests.factories import as_json
from tests.runcli import fleetaudit

SCHEMA_KEYS = {
    "proto", "family", "state", "recv_q", "send_q", "local_address", "local_port",
    "local_interface", "peer_address", "peer_port", "processes", "owner_known", "uid",
    "inode", "accept_queue", "backlog_limit", "bind_scope", "accepts_ipv4",
}  # fmt: skip


def test_json_output_has_exactly_the_documented_fields() -> None:
    capture = CAPTURES / "ss-tuanpe-root.txt"
    done = fleetaudit("parse", str(capture), "--format", "json", "--privileged")
    assert done.returncode == 0, done.stderr
    sockets = json.loads(done.stdout)
    assert sockets and all(set(s) == SCHEMA_KEYS for s in sockets)
    assert all(set(p) == {"name", "pid", "fd"} for s in sockets for p in s["processes"])
    [listener] = [s for s in sockets if s["local_port"] == 7000 and s["state"] == "LISTEN"]
    assert (listener["accept_queue"], listener["backlog_limit"]) == (5, 4)


def test_fast_json_path_equals_the_validated_model() -> None:
    for capture in sorted(CAPTURES.glob("*.txt")):
        if capture.stem in UNREADABLE:
            continue
        _, result = parse_capture(read_capture(capture), privileged=True)
        done = fleetaudit("parse", str(capture), "--format", "json", "--privileged")
        models = [as_json(Socket.from_raw(raw)) for raw in result.sockets]
        assert json.loads(done.stdout) == models, capture.name


def test_unreadable_lines_are_reported_with_their_number_and_exit_2(tmp_path: Path) -> None:
    capture = tmp_path / "listing.txt"
    capture.write_text(
        "Netid State Recv-Q Send-Q Local Address:Port Peer Address:Port\n"
        "tcp LISTEN 0 128 0.0.0.0:22 0.0.0.0:*\n"
        "tcp LISTEN zero 128 0.0.0.0:23 0.0.0.0:*\n"
    )
    done = fleetaudit("parse", str(capture))
    assert done.returncode == 2
    assert [s["local_port"] for s in json.loads(done.stdout)] == [22]
    assert f"{capture}:3:" in done.stderr


def test_not_a_socket_table_is_a_clear_error(tmp_path: Path) -> None:
    capture = tmp_path / "route.txt"
    capture.write_text("Kernel IP routing table\nDestination Gateway Genmask\n")
    done = fleetaudit("parse", str(capture))
    assert done.returncode == 2
    assert "routing table" in done.stderr and "Traceback" not in done.stderr


def test_an_empty_file_is_refused_whatever_tool_is_named(tmp_path: Path) -> None:
    """QA: with --tool given, an empty file printed `[]` and exit 0, which a script that
    pins the dialect read as a host listening on nothing. Every dialect prints a header."""
    capture = tmp_path / "empty.txt"
    warnings_only = "Failed to find cgroup2 mount\n" * 3  # ss's stderr, skipped by ss's reader
    for text, tools in (("", ALL_TOOLS), ("\n \n", ALL_TOOLS), (warnings_only, ("auto", "ss"))):
        capture.write_text(text)
        for tool in tools:
            done = fleetaudit("parse", str(capture), "--tool", tool)
            assert (done.returncode, done.stdout) == (2, ""), (tool, text)
            assert f"{capture}: empty capture: no socket table to read" in done.stderr


ALL_TOOLS = ("auto", "ss", "netstat", "proc")


def test_a_header_alone_is_an_empty_list_with_a_note(tmp_path: Path) -> None:
    """A listing of no socket is a possible answer for a filtered capture (`ss -tln` of a
    host without listeners), so it is printed, but said: a whole listing taken over SSH
    holds that connection at least."""
    capture = tmp_path / "header.txt"
    capture.write_text("State Recv-Q Send-Q Local Address:Port Peer Address:Port Process\n")
    done = fleetaudit("parse", str(capture))
    assert (done.returncode, json.loads(done.stdout)) == (0, [])
    assert f"{capture}: no socket in the listing, only ss's header" in done.stderr


def _column_filling_lines(capture: Path) -> tuple[list[int], list[int]]:
    """Lines with a tcp6/udp6 endpoint of exactly 23 characters, and those of them whose
    local address (as netstat printed it) is no IPv6 address at all."""
    filling, invalid = [], []
    for number, line in enumerate(capture.read_text().splitlines(), start=1):
        fields = line.split()
        if fields[:1] in (["tcp6"], ["udp6"]) and 23 in (len(fields[3]), len(fields[4])):
            filling.append(number)
            try:
                ipaddress.IPv6Address(fields[3].rpartition(":")[0])
            except ValueError:
                invalid.append(number)
    return filling, invalid


def test_cut_netstat_addresses_are_named_unless_the_capture_is_declared_wide() -> None:
    capture = CAPTURES / "nt-nettools-tuanpe-root.txt"  # netstat without -W
    filling, invalid = _column_filling_lines(capture)
    assert len(filling) == 9 and len(invalid) == 4
    done = fleetaudit("parse", str(capture), "--format", "json", "--privileged")
    assert done.returncode == 2
    reported = done.stderr.splitlines()
    assert [int(line.split(":")[1]) for line in reported] == filling
    assert all("23-character column and may have been cut" in line for line in reported)
    assert len(json.loads(done.stdout)) == 28  # everything else is still printed
    # --wide trusts the column: the cut addresses that still parse are read (wrongly, as
    # the user asked), the ones that are no address at all are still refused
    forced = fleetaudit("parse", str(capture), "--format", "json", "--privileged", "--wide")
    refused = forced.stderr.splitlines()
    assert forced.returncode == 2 and len(json.loads(forced.stdout)) == 33
    assert [int(line.split(":")[1]) for line in refused] == invalid
    assert all("is not an IPv6 address" in line for line in refused)


def test_options_the_dialect_has_no_use_for_are_said_not_silently_dropped() -> None:
    """`--wide` only matters to netstat's cut column and `--privileged` to process owners:
    given for an ss or /proc/net capture they were accepted without a word."""
    ss = fleetaudit("parse", CAPTURES / "ss-tunap.txt", "--wide", "--privileged")
    assert ss.returncode == 0, ss.stderr
    assert ss.stderr.splitlines() == [
        f"{CAPTURES / 'ss-tunap.txt'}: note: --wide is for netstat captures; this ss capture "
        "never cuts an address, so it changes nothing"
    ]
    proc = fleetaudit("parse", CAPTURES / "proc-net.txt", "--privileged")
    assert proc.returncode == 0 and "--privileged changes nothing: /proc/net names no " in (
        proc.stderr
    )
    netstat = fleetaudit("parse", CAPTURES / "netstat-tulnp.txt", "--wide", "--privileged")
    assert netstat.returncode == 0 and netstat.stderr == ""


def test_beyond_twenty_unreadable_lines_the_rest_are_counted(tmp_path: Path) -> None:
    capture = tmp_path / "listing.txt"
    bad = "".join(f"tcp LISTEN zero 128 0.0.0.0:{port} 0.0.0.0:*\n" for port in range(1, 50))
    capture.write_text("tcp LISTEN 0 128 0.0.0.0:22 0.0.0.0:*\n" + bad)
    done = fleetaudit("parse", str(capture))
    assert done.returncode == 2
    lines = done.stderr.splitlines()
    assert len(lines) == 21
    assert lines[-1] == f"{capture}: and 29 more unreadable line(s)"


def test_choices_are_read_whatever_their_case() -> None:
    """`--fail-on HIGH` was accepted but `-f JSON` was refused: one rule for every choice."""
    parsed = fleetaudit("parse", CAPTURES / "ss-tunap.txt", "-f", "JSON", "--tool", "SS")
    assert parsed.returncode == 0, parsed.stderr
    assert json.loads(parsed.stdout)
    demo = fleetaudit("demo", "-f", "Json", "--fail-on", "HIGH")
    assert demo.returncode == 0, demo.stderr
    assert json.loads(demo.stdout)["hosts"]


def test_an_output_format_prefix_is_read_whatever_its_case(tmp_path: Path) -> None:
    """QA: `-f JSON` was accepted, `-o JSON=night.json` refused as an unknown format."""
    done = fleetaudit(
        "demo", "-o", f"JSON={tmp_path}/night.json", "-o", f"Sarif={tmp_path}/n.sarif"
    )
    assert done.returncode == 0, done.stderr
    assert json.loads((tmp_path / "night.json").read_text())["hosts"]
    assert json.loads((tmp_path / "n.sarif").read_text())["version"] == "2.1.0"
