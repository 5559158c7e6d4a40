"""A connection that times out says how far it got, because each stage points an on-call
engineer at a different fault: a port that accepts but sends no SSH banner (a hung sshd, or
something else on port 22) and an SSH server that greets but never finishes the login. (No
answer at all, a blackholed host, is in test_netns_faults.py: it needs a namespace.)"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture
def mute_and_greeting_ports() -> Iterator[tuple[int, int]]:
    """Two loopback ports: one accepts and says nothing, one sends an SSH banner and then
    says nothing. Both hold their connections until the test ends."""
    mute, greeting = socket.socket(), socket.socket()
    held: list[socket.socket] = []
    stop = threading.Event()

    def serve(listener: socket.socket, banner: bytes) -> None:
        listener.settimeout(0.2)
        while not stop.is_set():  # bounded by the test's own duration
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            conn.sendall(banner)
            held.append(conn)

    threads = []
    for listener, banner in ((mute, b""), (greeting, b"SSH-2.0-OpenSSH_9.2p1 Hung\r\n")):
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        threads.append(threading.Thread(target=serve, args=(listener, banner), daemon=True))
        threads[-1].start()
    try:
        yield mute.getsockname()[1], greeting.getsockname()[1]
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=5)
        for sock in (mute, greeting, *held):
            sock.close()


def test_a_timeout_says_whether_the_port_spoke_ssh(
    mute_and_greeting_ports: tuple[int, int], tmp_path: Path
) -> None:
    mute, greeting = mute_and_greeting_ports
    inventory = tmp_path / "inventory.yaml"
    inventory.write_text(
        "hosts:\n"
        f"  mute: {{address: 127.0.0.1, port: {mute}}}\n"
        f"  greeting: {{address: 127.0.0.1, port: {greeting}}}\n"
    )
    report = tmp_path / "report.json"
    done = subprocess.run(
        [sys.executable, "-m", "fleetaudit", "run", inventory, "-o", f"json={report}",
         "--no-history", "--connect-timeout", "1", "--insecure-no-host-key-check"],
        capture_output=True, text=True, timeout=60, check=False,
        env={**os.environ, "XDG_STATE_HOME": str(tmp_path)},
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    hosts = {h["host"]: h for h in json.loads(report.read_text())["hosts"]}
    assert {h["status"] for h in hosts.values()} == {"timeout"}
    assert (
        f"127.0.0.1:{mute} accepted the TCP connection but sent no SSH banner within 1s"
        in (hosts["mute"]["error"])
    )
    assert (
        "(SSH-2.0-OpenSSH_9.2p1 Hung) did not finish the SSH login within 1s"
        in (hosts["greeting"]["error"])
    )


def test_a_connect_timeout_longer_than_the_login_allowance_holds(
    mute_and_greeting_ports: tuple[int, int], tmp_path: Path
) -> None:
    """QA: --connect-timeout above 20 s gave up at 20 s all the same, saying "login login
    timeout expired": asyncssh's own login timer, left at the deadline's 20 s login
    allowance, ran out first. Here the allowance is 1 s and --connect-timeout 2 s."""
    import asyncio

    from fleetaudit.errors import TransportError
    from fleetaudit.inventory.model import Host
    from fleetaudit.model.enums import HostKeyPolicy, HostStatus
    from fleetaudit.transport import SshSettings, SshTransport

    mute, greeting = mute_and_greeting_ports
    settings = SshSettings(
        known_hosts=(), host_key_policy=HostKeyPolicy.INSECURE, connect_timeout=2,
        login_timeout=1, use_ssh_config=False, accept_new_file=tmp_path / "known_hosts",
    )  # fmt: skip

    async def attempt(port: int) -> TransportError:
        transport = SshTransport(settings)
        try:
            await transport.open(Host(name=f"p{port}", address="127.0.0.1", port=port))
        except TransportError as exc:
            return exc
        finally:
            await transport.aclose()
        raise AssertionError("connected to a port that never finishes a login")

    for port, said in ((mute, "sent no SSH banner within 2s"),
                       (greeting, "did not finish the SSH login within 2s")):  # fmt: skip
        error = asyncio.run(attempt(port))
        assert error.status is HostStatus.TIMEOUT
        assert said in error.message and "(--connect-timeout)" in error.message, error.message
