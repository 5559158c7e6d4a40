"""`fleetaudit snapshot` collects as `run` does: its connection options reach the collector.

Against a real OpenSSH sshd on loopback (the session fixture of tests/conftest.py, and the
never-ending listing of test_remote_hang), and against loopback ports that accept TCP but
never speak SSH. Each test shows the option changing what the snapshot holds or how the
command exits.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.test_remote_hang import BOUND_S, hanging_sshd  # noqa: F401 (a fixture)
from tests.runcli import fleetaudit
from tests.sshd import SshdServer

pytestmark = pytest.mark.sshd


def _snapshot(tmp: Path, inventory: str, *options: str | Path) -> tuple[int, dict[str, Any], str]:
    """Run `fleetaudit snapshot` on ``inventory``; its exit code, file and stderr."""
    path, snap = tmp / "inventory.yaml", tmp / "snap.json"
    path.write_text(inventory)
    snap.unlink(missing_ok=True)
    done = fleetaudit("snapshot", path, "-o", snap, *options, timeout=BOUND_S, state=tmp)
    assert "Traceback" not in done.stderr, done.stderr
    return done.returncode, json.loads(snap.read_text()), done.stderr


def _inventory(server: SshdServer) -> str:
    return (
        f"defaults: {{user: {server.user}, key: {server.client_key}}}\n"
        f"hosts:\n  target: {{address: {server.host}, port: {server.port}}}\n"
    )


@pytest.fixture
def silent_ports() -> Iterator[list[int]]:
    """Two loopback ports whose kernel completes the TCP handshake but where nothing ever
    answers: an SSH client waits there for the server's banner until its connect timeout."""
    with socket.socket() as first, socket.socket() as second:
        for listener in (first, second):
            listener.bind(("127.0.0.1", 0))
            listener.listen(8)
        yield [first.getsockname()[1], second.getsockname()[1]]


def test_insecure_no_host_key_check_audits_a_host_whose_key_is_unknown(
    tmp_path: Path, sshd: SshdServer
) -> None:
    empty = tmp_path / "known_hosts"
    empty.write_text("")
    code, snap, _ = _snapshot(tmp_path, _inventory(sshd), "--known-hosts", empty)
    assert code == 2
    assert snap["hosts"][0]["status"] == "host_key_unknown"

    code, snap, stderr = _snapshot(
        tmp_path, _inventory(sshd), "--known-hosts", empty, "--insecure-no-host-key-check"
    )
    assert code == 0, stderr
    assert snap["run"]["host_key_policy"] == "insecure-no-host-key-check"
    [host] = snap["hosts"]
    assert (host["status"], host["host_key_checked"]) == ("ok", False)


def test_connect_timeout_and_concurrency_shape_the_collection(
    tmp_path: Path, silent_ports: list[int]
) -> None:
    hosts = "".join(f"  mute{i}: {{address: 127.0.0.1, port: {port}}}\n"
                    for i, port in enumerate(silent_ports))  # fmt: skip
    code, snap, _ = _snapshot(
        tmp_path, "hosts:\n" + hosts, "--connect-timeout", "1", "--concurrency", "1",
        "--insecure-no-host-key-check",
    )  # fmt: skip
    assert code == 2, "no host audited"
    mute = sorted(snap["hosts"], key=lambda h: h["collected_at"])
    assert [h["status"] for h in mute] == ["timeout", "timeout"], mute
    # the option reached the transport: its timeout is the one the message names
    assert all("within 1s (--connect-timeout)" in h["error"] for h in mute), mute
    first, second = (datetime.fromisoformat(h["collected_at"]) for h in mute)
    assert (second - first).total_seconds() >= 0.9, "one at a time: the second waited"


def test_command_timeout_ends_a_listing_that_never_finishes(
    tmp_path: Path,
    hanging_sshd: tuple[SshdServer, Path],  # noqa: F811 (the fixture imported above)
) -> None:
    server, _ = hanging_sshd
    known_hosts = tmp_path / "known_hosts"
    known_hosts.write_text(server.known_hosts_entry + "\n")
    code, snap, _ = _snapshot(
        tmp_path, _inventory(server), "--known-hosts", known_hosts, "--command-timeout", "1"
    )  # without the option the listing would be given 60 s, beyond BOUND_S
    assert code == 2
    [host] = snap["hosts"]
    assert host["status"] == "command_failed" and "within 1s" in host["error"], host
