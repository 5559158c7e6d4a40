"""`become: true` through a real sudo, for a user with NOPASSWD and one whose sudo needs a
password, logging in to a real sshd. Needs root: it creates two users and a sudoers file,
and removes exactly those afterwards."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.runcli import fleetaudit
from tests.sshd import SshdServer, find_sshd, start_sshd

pytestmark = [pytest.mark.sshd, pytest.mark.root]


def _need_root_and_sudo() -> None:
    missing = os.geteuid() != 0 or shutil.which("sudo") is None or find_sshd() is None
    if missing:
        if os.environ.get("CI") == "true":
            pytest.fail("CI runs as root with sudo and openssh-server installed")
        pytest.skip("needs root, sudo and openssh-server")


@pytest.fixture
def users() -> Iterator[tuple[str, str]]:
    """Two throwaway accounts: one may run anything through sudo without a password, the
    other needs a password (which it never gets: `sudo -n` must refuse)."""
    _need_root_and_sudo()
    tag = f"fa{os.getpid()}"
    nopasswd, password = f"{tag}np", f"{tag}pw"
    sudoers = Path(f"/etc/sudoers.d/fleetaudit-test-{tag}")
    created: list[str] = []
    try:
        for user in (nopasswd, password):
            subprocess.run(["useradd", "-M", "-s", "/bin/sh", user], check=True, timeout=30)
            created.append(user)
            # "*": no password, but not locked (sshd refuses locked accounts without PAM)
            subprocess.run(["usermod", "-p", "*", user], check=True, timeout=30)
        sudoers.write_text(f"{nopasswd} ALL=(root) NOPASSWD: ALL\n{password} ALL=(root) ALL\n")
        sudoers.chmod(0o440)
        subprocess.run(["visudo", "-cf", str(sudoers)], check=True, timeout=30, capture_output=True)
        yield nopasswd, password
    finally:
        sudoers.unlink(missing_ok=True)
        for user in created:
            subprocess.run(["userdel", user], check=False, timeout=30)


@pytest.fixture
def shared_sshd() -> Iterator[SshdServer]:
    """An sshd whose key files other users can read (pytest's tmp dirs are root-only)."""
    _need_root_and_sudo()
    directory = Path(tempfile.mkdtemp(prefix="fleetaudit-sudo-"))
    directory.chmod(0o755)
    try:
        for server in start_sshd(directory):
            server.authorized_keys.chmod(0o644)
            yield server
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def test_become_with_and_without_passwordless_sudo(
    users: tuple[str, str], shared_sshd: SshdServer, tmp_path: Path
) -> None:
    nopasswd, password = users
    sshd = shared_sshd
    (tmp_path / "known_hosts").write_text(sshd.known_hosts_entry + "\n")
    inventory = tmp_path / "inventory.yaml"
    inventory.write_text(
        f"defaults: {{address: 127.0.0.1, port: {sshd.port}, key: {sshd.client_key},\n"
        "           become: true}\n"
        f"hosts:\n  trusted: {{user: {nopasswd}}}\n  limited: {{user: {password}}}\n"
    )
    report = tmp_path / "report.json"
    done = fleetaudit(
        "run", inventory, "--known-hosts", tmp_path / "known_hosts", "--format", "json",
        "-o", report, "--fail-on", "critical",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    hosts = {h["host"]: h for h in json.loads(report.read_text())["hosts"]}
    trusted, limited = hosts["trusted"], hosts["limited"]
    assert (trusted["status"], trusted["privilege"]) == ("ok", "root")
    sshd_listener = next(s for s in trusted["sockets"] if s["local_port"] == sshd.port)
    assert [p["pid"] for p in sshd_listener["processes"]] == [sshd.pid]
    assert (limited["status"], limited["privilege"]) == ("ok", "unprivileged")
    assert "sudo -n refused" in limited["privilege_note"]
    assert "password is required" in limited["privilege_note"]
    findings = json.loads(report.read_text())["findings"]
    assert any(f["rule_id"] == "audit-coverage" and f["host"] == "limited" for f in findings)
    assert not any(f["rule_id"] == "audit-coverage" and f["host"] == "trusted" for f in findings)
