"""`fleetaudit run` end to end against a real OpenSSH sshd on loopback.

The whole product path: inventory file → asyncssh with host-key checking → the constant
collection script run by a real shell on a real sshd → the real `ss` of this machine →
parsers → policy → JSON report → exit code. The policy forbids one port that the test
controls, so the verdict depends only on what the test starts.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.runcli import fleetaudit
from tests.sshd import SshdServer, start_sshd

pytestmark = pytest.mark.sshd

POLICY = """\
version: 1
name: e2e
rules:
  - id: no-test-port
    kind: forbidden
    severity: high
    description: the port this test opens must not listen
    match: {{port: {port}, proto: tcp}}
"""


@pytest.fixture
def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def listener(free_port: int) -> Iterator[int]:
    with socket.socket() as server:
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", free_port))
        server.listen(8)
        yield free_port


class Setup:
    """Files for one run: inventory, policy and known_hosts next to each other."""

    def __init__(self, tmp: Path, sshd: SshdServer, forbidden_port: int) -> None:
        self.tmp = tmp
        self.sshd = sshd
        self.policy = tmp / "policy.yaml"
        self.policy.write_text(POLICY.format(port=forbidden_port))
        self.known_hosts = tmp / "known_hosts"
        self.known_hosts.write_text(sshd.known_hosts_entry + "\n")
        self.report = tmp / "report.json"

    def inventory(self, extra_hosts: str = "") -> Path:
        path = self.tmp / "inventory.yaml"
        path.write_text(
            f"defaults: {{user: {self.sshd.user}, key: {self.sshd.client_key}}}\n"
            "hosts:\n"
            f"  target: {{address: {self.sshd.host}, port: {self.sshd.port}, groups: [e2e]}}\n"
            + extra_hosts
        )
        return path

    def run(self, inventory: Path, *options: str) -> tuple[int, dict, str]:
        done = fleetaudit(
            "run", inventory, "--policy", self.policy, "--known-hosts", self.known_hosts,
            "--format", "json", "--output", self.report, "--connect-timeout", "5",
            "--command-timeout", "30", *options,
        )  # fmt: skip
        assert "Traceback" not in done.stderr, done.stderr
        report = json.loads(self.report.read_text()) if self.report.exists() else {}
        return done.returncode, report, done.stderr


def host(report: dict, name: str) -> dict:
    return next(h for h in report["hosts"] if h["host"] == name)


def test_clean_host_exits_0_and_lists_the_real_sockets(tmp_path, sshd, free_port):
    setup = Setup(tmp_path, sshd, free_port)
    code, report, stderr = setup.run(setup.inventory())
    assert code == 0, stderr
    target = host(report, "target")
    assert target["status"] == "ok"
    assert target["tool"] == "ss"
    assert target["host_key_checked"] is True
    with open("/proc/sys/net/ipv4/ip_local_port_range") as kernel:
        assert target["ephemeral_ports"] == [int(port) for port in kernel.read().split()]
    sshd_socket = next(
        s for s in target["sockets"] if s["local_port"] == sshd.port and s["state"] == "LISTEN"
    )
    assert sshd_socket["local_address"] == "127.0.0.1"
    assert sshd_socket["bind_scope"] == "loopback"
    if target["privilege"] == "root":
        assert [p["pid"] for p in sshd_socket["processes"]] == [sshd.pid]
    assert report["findings"] == []


def test_off_policy_listener_exits_1_with_a_finding_naming_it(tmp_path, sshd, listener):
    setup = Setup(tmp_path, sshd, listener)
    code, report, stderr = setup.run(setup.inventory())
    assert code == 1, stderr
    [finding] = report["findings"]
    assert finding["rule_id"] == "no-test-port"
    assert finding["host"] == "target"
    assert finding["socket"]["local_port"] == listener
    assert finding["socket"]["local_address"] == "127.0.0.1"


def test_unreachable_host_is_reported_and_exits_2_unless_allowed(
    tmp_path, sshd, listener, refused_port
):
    setup = Setup(tmp_path, sshd, listener)
    inventory = setup.inventory(f"  down: {{address: 127.0.0.1, port: {refused_port}}}\n")
    code, report, stderr = setup.run(inventory)
    assert code == 2
    down = host(report, "down")
    assert down["status"] == "unreachable"
    assert str(refused_port) in down["error"]
    assert host(report, "target")["status"] == "ok", "one bad host must not stop the others"
    assert "1 not audited" in stderr

    code, _, _ = setup.run(inventory, "--allow-unreachable")
    assert code == 1, "the finding on the audited host still counts"


def test_unknown_host_key_fails_the_host_not_the_run(tmp_path, sshd, free_port):
    setup = Setup(tmp_path, sshd, free_port)
    setup.known_hosts.write_text("")
    code, report, _ = setup.run(setup.inventory())
    assert code == 2
    target = host(report, "target")
    assert target["status"] == "host_key_unknown"
    assert "--accept-new" in target["error"]


def test_insecure_mode_audits_and_says_so(tmp_path, sshd, free_port):
    setup = Setup(tmp_path, sshd, free_port)
    setup.known_hosts.write_text("")
    code, report, stderr = setup.run(setup.inventory(), "--insecure-no-host-key-check")
    assert code == 0, stderr
    assert report["run"]["host_key_policy"] == "insecure-no-host-key-check"
    assert host(report, "target")["host_key_checked"] is False


def test_local_transport_audits_this_machine_without_ssh(tmp_path, sshd, listener):
    setup = Setup(tmp_path, sshd, listener)
    inventory = tmp_path / "local.yaml"
    inventory.write_text("hosts:\n  localhost: {transport: local}\n")
    code, report, stderr = setup.run(inventory)
    assert code == 1, stderr
    assert host(report, "localhost")["status"] == "ok"
    assert report["findings"][0]["socket"]["local_port"] == listener


def test_samples_are_taken_over_one_real_connection(tmp_path, sshd, free_port):
    setup = Setup(tmp_path, sshd, free_port)
    code, report, stderr = setup.run(setup.inventory(), "--samples", "3", "--interval", "0.2")
    assert code == 0, stderr
    target = host(report, "target")
    assert target["samples"] == 3
    # The collector read the kernel's listen counters in the first and the last sample.
    assert target["listen_overflows"] is not None and target["listen_overflows"] >= 0


@pytest.mark.parametrize("login_shell", ["fish", "tcsh"])
def test_a_host_whose_login_shell_is_not_sh_is_audited(tmp_path, free_port, login_shell):
    """sshd runs the command line in the audit user's login shell. ForceCommand hands it to
    fish or tcsh exactly as a login shell would get it (``SHELL -c LINE``); the host must be
    audited like any other (before, fish printed nothing and tcsh garbled the header)."""
    if shutil.which(login_shell) is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{login_shell} is not installed; CI must install it")
        pytest.skip(f"{login_shell} is not installed")
    force = f'ForceCommand exec {login_shell} -c "$SSH_ORIGINAL_COMMAND"\n'
    (tmp_path / "sshd").mkdir()
    for server in start_sshd(tmp_path / "sshd", extra_config=force):
        setup = Setup(tmp_path, server, free_port)
        code, report, stderr = setup.run(setup.inventory())
        assert code == 0, stderr
        target = host(report, "target")
        assert (target["status"], target["tool"]) == ("ok", "ss"), target.get("error")
        assert any(s["local_port"] == server.port for s in target["sockets"])
