"""Faults that need a network the test owns: a blackholed address (packets vanish, so the
connection times out) and a name that does not resolve. The run happens inside a network
namespace created here (loopback and a veth pair that drops everything), so not
one packet leaves it; the namespace is deleted afterwards by the name recorded here."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.root


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, timeout=30, capture_output=True)


@pytest.fixture
def namespace() -> Iterator[str]:
    if os.geteuid() != 0 or shutil.which("ip") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI runs as root with iproute2")
        pytest.skip("needs root and iproute2 (network namespaces)")
    name = f"fa-test-{os.getpid()}"
    _ip("netns", "add", name)
    try:
        _ip("-n", name, "link", "set", "lo", "up")
        # A veth pair whose far end owns no address: with a fixed neighbour entry, SYNs to
        # 10.77.250.9 leave on hole0 and are dropped at hole1 (wrong MAC): a silent blackhole.
        _ip("-n", name, "link", "add", "hole0", "type", "veth", "peer", "name", "hole1")
        _ip("-n", name, "addr", "add", "10.77.250.1/24", "dev", "hole0")
        _ip("-n", name, "link", "set", "hole0", "up")
        _ip("-n", name, "link", "set", "hole1", "up")
        _ip("-n", name, "neigh", "add", "10.77.250.9", "lladdr", "02:00:00:00:fa:09",
            "dev", "hole0", "nud", "permanent")  # fmt: skip
        yield name
    finally:
        subprocess.run(["ip", "netns", "del", name], check=False, timeout=30)


def _run_in(namespace: str, inventory: Path, tmp_path: Path) -> dict[str, dict[str, Any]]:
    """``fleetaudit run INVENTORY`` inside ``namespace`` (exit 2: hosts not audited), each
    host of its JSON report by name."""
    report = tmp_path / "report.json"
    done = subprocess.run(
        ["ip", "netns", "exec", namespace, sys.executable, "-m", "fleetaudit", "run", inventory,
         "-o", f"json={report}", "--no-history", "--connect-timeout", "2",
         "--insecure-no-host-key-check"],
        capture_output=True, text=True, timeout=120, check=False,
        env={**os.environ, "XDG_STATE_HOME": str(tmp_path)},
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    return {h["host"]: h for h in json.loads(report.read_text())["hosts"]}


def test_blackholed_and_unresolvable_hosts_beside_a_healthy_one(
    namespace: str, tmp_path: Path
) -> None:
    inventory = tmp_path / "inventory.yaml"
    inventory.write_text(
        "hosts:\n"
        "  localhost: {transport: local}\n"
        "  blackholed: {address: 10.77.250.9}\n"
        "  nowhere: {address: no-such-host.invalid}\n"
    )
    hosts = _run_in(namespace, inventory, tmp_path)
    assert hosts["localhost"]["status"] == "ok"
    assert hosts["blackholed"]["status"] == "timeout"
    assert "no answer within 2s (--connect-timeout)" in hosts["blackholed"]["error"]
    assert hosts["nowhere"]["status"] == "unresolvable"
    assert "does not resolve" in hosts["nowhere"]["error"]


@pytest.fixture
def silent_resolver(namespace: str) -> Iterator[str]:
    """``namespace`` with a resolv.conf of its own (``ip netns exec`` mounts
    /etc/netns/NAME/resolv.conf over /etc/resolv.conf) naming the blackholed address: every
    DNS query is dropped inside the namespace, and a lookup waits the full 30 s."""
    config_dirs = Path("/etc/netns")
    made_parent = not config_dirs.exists()
    own = config_dirs / namespace
    own.mkdir(parents=True)
    try:
        (own / "resolv.conf").write_text("nameserver 10.77.250.9\noptions timeout:30 attempts:1\n")
        yield namespace
    finally:
        shutil.rmtree(own)
        if made_parent:
            config_dirs.rmdir()


def test_a_resolver_that_does_not_answer_is_named_as_the_fault(
    silent_resolver: str, tmp_path: Path
) -> None:
    """A connection that timed out while its name was still being looked up was "no
    answer ...: the host is down or a firewall drops the packets", although no packet had
    been sent to the host."""
    inventory = tmp_path / "inventory.yaml"
    inventory.write_text(
        "hosts:\n  named: {address: lookup-hangs.example}\n  blackholed: {address: 10.77.250.9}\n"
    )
    hosts = _run_in(silent_resolver, inventory, tmp_path)
    assert hosts["named"]["status"] == "timeout"
    assert "looking up 'lookup-hangs.example' had no answer within 2s" in hosts["named"]["error"]
    assert "resolver" in hosts["named"]["error"]
    assert "firewall" not in hosts["named"]["error"]
    assert hosts["blackholed"]["status"] == "timeout"  # an address: no lookup to blame
    assert "no answer within 2s (--connect-timeout)" in hosts["blackholed"]["error"]
