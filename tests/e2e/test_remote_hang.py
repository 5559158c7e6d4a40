"""A host whose listing never ends, on a real sshd: timeouts and signals must not wait for it.

sshd keeps a session channel open until the remote command exits, so a client that closes
the channel politely and waits for the reply waits as long as the remote command (here
600 s). The ForceCommand records each remote command's PID, so the test stops exactly the
processes it caused; nothing else on the machine is touched.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.sshd import SshdServer, start_sshd

pytestmark = pytest.mark.sshd

REMOTE_SECONDS = 600
BOUND_S = 20
"""Far above the few seconds these runs take, far below the remote command's 600 s."""


@pytest.fixture(scope="module")
def hanging_sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SshdServer, Path]]:
    directory = tmp_path_factory.mktemp("hanging-sshd")
    pids = directory / "remote.pids"
    force = f"ForceCommand echo $$ >> {pids}; exec sleep {REMOTE_SECONDS}\n"
    try:
        for server in start_sshd(directory, extra_config=force):
            yield server, pids
    finally:
        _stop_remote_commands(pids)


def _stop_remote_commands(pids: Path) -> None:
    for pid in pids.read_text().split() if pids.exists() else ():
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if cmdline == f"sleep\0{REMOTE_SECONDS}\0".encode():
            os.kill(int(pid), signal.SIGKILL)


def _start(tmp: Path, server: SshdServer, *options: str) -> tuple[subprocess.Popen[bytes], Path]:
    inventory, known_hosts = tmp / "inventory.yaml", tmp / "known_hosts"
    inventory.write_text(
        f"defaults: {{user: {server.user}, key: {server.client_key}}}\n"
        f"hosts:\n  slow: {{address: {server.host}, port: {server.port}}}\n"
    )
    known_hosts.write_text(server.known_hosts_entry + "\n")
    report = tmp / "report.json"
    process = subprocess.Popen(
        [sys.executable, "-m", "fleetaudit", "run", inventory, "--known-hosts", known_hosts,
         "-o", f"json={report}", "--db", tmp / "history.sqlite", *options],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        env={**os.environ, "XDG_STATE_HOME": str(tmp)},
    )  # fmt: skip
    return process, report


def _wait(process: subprocess.Popen[bytes]) -> int:
    try:
        return process.wait(timeout=BOUND_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)
        pytest.fail(f"fleetaudit still waited for the remote command after {BOUND_S}s")


def _wait_for_line(pids: Path, count: int) -> None:
    """Until the remote command of this test runs (its PID is the count-th line)."""
    deadline = time.monotonic() + BOUND_S
    while time.monotonic() < deadline:
        if pids.exists() and len(pids.read_text().split()) >= count:
            return
        time.sleep(0.05)
    pytest.fail("the remote command never started")


def _status(report: Path) -> str:
    [host] = json.loads(report.read_text())["hosts"]
    return str(host["status"])


def test_command_timeout_ends_the_host_without_waiting_for_the_remote_command(
    tmp_path: Path, hanging_sshd: tuple[SshdServer, Path]
) -> None:
    server, _ = hanging_sshd
    process, report = _start(tmp_path, server, "--command-timeout", "2")
    assert _wait(process) == 2
    assert _status(report) == "command_failed"  # reached, then stalled: not an outage


def test_sigterm_during_the_listing_stops_the_run_with_its_report(
    tmp_path: Path, hanging_sshd: tuple[SshdServer, Path]
) -> None:
    server, pids = hanging_sshd
    started = len(pids.read_text().split()) if pids.exists() else 0
    process, report = _start(tmp_path, server)
    _wait_for_line(pids, started + 1)
    process.send_signal(signal.SIGTERM)
    assert _wait(process) == 143
    assert _status(report) == "interrupted"
