"""`become: true` under sudoers setups met in the field, through a real sshd and a real
sudo: a runas_default that is not root, a rule for another command only, a least-privilege
rule for the exact listing, and a `requiretty` that sudo checks only when it runs the
command. Needs root: it creates users and a sudoers file, and removes exactly those."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.test_sudo_become import _need_root_and_sudo, shared_sshd
from tests.runcli import fleetaudit
from tests.sshd import SshdServer

pytestmark = [pytest.mark.sshd, pytest.mark.root]
__all__ = ["shared_sshd"]  # the fixture, imported for pytest


@contextmanager
def _accounts(names: list[str], sudoers_text: str) -> Iterator[None]:
    """Create ``names`` (no password, not locked) and one sudoers file; remove both."""
    sudoers = Path(f"/etc/sudoers.d/fleetaudit-test-{names[0]}")
    created: list[str] = []
    try:
        for user in names:
            subprocess.run(["useradd", "-M", "-s", "/bin/sh", user], check=True, timeout=30)
            created.append(user)
            subprocess.run(["usermod", "-p", "*", user], check=True, timeout=30)
        sudoers.write_text(sudoers_text)
        sudoers.chmod(0o440)
        subprocess.run(["visudo", "-cf", str(sudoers)], check=True, timeout=30, capture_output=True)
        yield
    finally:
        sudoers.unlink(missing_ok=True)
        for user in created:
            subprocess.run(["userdel", user], check=False, timeout=30)


@contextmanager
def _root_listener() -> Iterator[int]:
    """A listener on 0.0.0.0 owned by root (this process) on a database port the default
    policy holds to loopback, so that it must be judged whatever names its owner."""
    for port in (33060, 6379, 11211):
        server = socket.socket()
        try:
            server.bind(("0.0.0.0", port))
        except OSError:
            server.close()
            continue
        with server:
            server.listen()
            yield port
        return
    pytest.skip("no free database port to listen on")


def _audit(sshd: SshdServer, tmp_path: Path, users: dict[str, str]) -> tuple[Any, str]:
    """Run fleetaudit with become on for one host per (host, user); the JSON report and
    the table, its whitespace folded."""
    _need_root_and_sudo()
    (tmp_path / "known_hosts").write_text(sshd.known_hosts_entry + "\n")
    inventory = tmp_path / "inventory.yaml"
    hosts = "".join(f"  {host}: {{user: {user}}}\n" for host, user in users.items())
    inventory.write_text(
        f"defaults: {{address: 127.0.0.1, port: {sshd.port}, key: {sshd.client_key},\n"
        f"           become: true}}\nhosts:\n{hosts}"
    )
    report, table = tmp_path / "report.json", tmp_path / "report.txt"
    done = fleetaudit(
        "run", inventory, "--known-hosts", tmp_path / "known_hosts", "--output",
        f"json={report}", "--output", f"table={table}", "--fail-on", "critical",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return json.loads(report.read_text()), " ".join(table.read_text().split())


def _hosts(report: Any) -> dict[str, Any]:
    return {h["host"]: h for h in report["hosts"]}


def test_sudo_is_asked_for_root_and_advice_fits_the_refusal(
    shared_sshd: SshdServer, tmp_path: Path
) -> None:
    """runas_default=nobody with a rule for nobody: sudo ran ss as nobody while the header
    said root, so root's 0.0.0.0 listener read as a kernel socket and was never judged. A
    rule for another command only: sudo -l printed nothing, the reason was empty."""
    _need_root_and_sudo()
    ss = shutil.which("ss")
    assert ss
    tag = f"fa{os.getpid()}"
    runas, other, exact = f"{tag}ra", f"{tag}ot", f"{tag}ex"
    sudoers = (
        f"Defaults:{runas} runas_default=nobody\n{runas} ALL=(nobody) NOPASSWD: {ss} -tuanpe\n"
        f"{other} ALL=(root) NOPASSWD: /usr/bin/true\n"
        f"{exact} ALL=(root) NOPASSWD: {ss} -tuanpe\n"
    )
    with _accounts([runas, other, exact], sudoers), _root_listener() as port:
        report, table = _audit(shared_sshd, tmp_path, {"runas": runas, "other": other,
                                                        "exact": exact})  # fmt: skip
    hosts = _hosts(report)
    assert {h: (v["status"], v["privilege"]) for h, v in hosts.items()} == {
        "runas": ("ok", "unprivileged"),
        "other": ("ok", "unprivileged"),
        "exact": ("ok", "root"),
    }
    [ours] = [s for s in hosts["exact"]["sockets"] if s["local_port"] == port]
    assert [p["pid"] for p in ours["processes"]] == [os.getpid()]
    [hidden] = [s for s in hosts["runas"]["sockets"] if s["local_port"] == port]
    assert not hidden["owner_known"] and not hidden["processes"]  # unknown, not "no process"
    refused = f"no sudoers rule lets this user run {ss} -tuanpe as root without a password"
    for host, user in (("runas", runas), ("other", other)):
        note = hosts[host]["privilege_note"]
        assert f"sudo -n refused ({refused})" in note
        assert f"add the sudoers line `{user} ALL=(root) NOPASSWD: {ss} -tuanpe`" in note
    findings = report["findings"]
    on_port = [f for f in findings if f["host"] == "runas" and f"{port}" in f["message"]]
    assert any(f["severity"] == "high" and "owner unknown" in f["message"] for f in on_port)
    [coverage] = [f for f in findings if f["rule_id"] == "audit-coverage" and f["host"] == "runas"]
    assert (
        f"Add the sudoers line `{runas} ALL=(root) NOPASSWD: {ss} -tuanpe`" in coverage["message"]
    )
    assert "passwordless" not in coverage["message"]
    note = table[table.index("NOTE: audited without root") :]
    assert "become: true" not in note and "for ss" not in note


def test_sudo_refusing_the_run_it_allowed_falls_back_to_the_unprivileged_listing(
    shared_sshd: SshdServer, tmp_path: Path
) -> None:
    """`Defaults!ss requiretty`: sudo -l allows the listing, the run is refused for want
    of a tty. The host failed as command_failed; it is audited without privilege, and the
    advice is the command's own !requiretty (a command's Defaults outrank the user's), not
    a sudoers rule it already has."""
    _need_root_and_sudo()
    ss = shutil.which("ss")
    assert ss
    user = f"fa{os.getpid()}tt"
    sudoers = f"{user} ALL=(root) NOPASSWD: {ss} -tuanpe\nDefaults!{ss} requiretty\n"
    with _accounts([user], sudoers), _root_listener() as port:
        report, table = _audit(shared_sshd, tmp_path, {"tty": user})
    host = _hosts(report)["tty"]
    assert (host["status"], host["privilege"]) == ("ok", "unprivileged")
    assert (
        "sudo -n refused (sudo: sorry, you must have a tty to run sudo)" in host["privilege_note"]
    )
    assert f"add `Defaults!{ss} !requiretty` to sudoers after the line" in host["privilege_note"]
    assert any(s["local_port"] == port and not s["owner_known"] for s in host["sockets"])
    note = table[table.index("NOTE: audited without root") :]
    assert f"Add `Defaults!{ss} !requiretty` to sudoers" in note
    assert "become: true" not in note and "NOPASSWD" not in note


def test_a_user_who_must_have_a_tty_is_told_to_lift_requiretty(
    shared_sshd: SshdServer, tmp_path: Path
) -> None:
    """requiretty for the login user: sudo refuses even the probe; the advice is that
    user's !requiretty (it was a generic "allow passwordless sudo", which it has)."""
    _need_root_and_sudo()
    user = f"fa{os.getpid()}ut"
    sudoers = f"Defaults:{user} requiretty\n{user} ALL=(root) NOPASSWD: ALL\n"
    with _accounts([user], sudoers):
        report, table = _audit(shared_sshd, tmp_path, {"usertty": user})
    host = _hosts(report)["usertty"]
    assert (host["status"], host["privilege"]) == ("ok", "unprivileged")
    assert host["privilege_note"].endswith(f"add `Defaults:{user} !requiretty` to sudoers")
    [coverage] = [f for f in report["findings"] if f["rule_id"] == "audit-coverage"]
    assert f"Add `Defaults:{user} !requiretty` to sudoers" in coverage["message"]
    assert "passwordless" not in coverage["message"] and "passwordless" not in table


def test_the_advice_names_the_user_ssh_config_logs_in_as(
    shared_sshd: SshdServer, tmp_path: Path
) -> None:
    """The login user set in ssh_config, not the inventory: the advice said `USER ALL=...,
    USER being the audit user`, though the connection knew who it logged in as (QA)."""
    _need_root_and_sudo()
    ss = shutil.which("ss")
    assert ss
    user = f"fa{os.getpid()}sc"
    (tmp_path / "known_hosts").write_text(shared_sshd.known_hosts_entry + "\n")
    ssh_config = tmp_path / "ssh_config"
    ssh_config.write_text(f"Host 127.0.0.1\n  User {user}\n")
    inventory = tmp_path / "inventory.yaml"
    inventory.write_text(
        f"hosts:\n  cfg: {{address: 127.0.0.1, port: {shared_sshd.port}, "
        f"key: {shared_sshd.client_key}, become: true}}\n"
    )
    report_file = tmp_path / "report.json"
    with _accounts([user], f"{user} ALL=(root) NOPASSWD: /usr/bin/true\n"):
        done = fleetaudit(
            "run", inventory, "--known-hosts", tmp_path / "known_hosts", "--ssh-config",
            ssh_config, "--output", f"json={report_file}", "--fail-on", "critical",
        )  # fmt: skip
    assert done.returncode == 0, done.stderr
    host = _hosts(json.loads(report_file.read_text()))["cfg"]
    assert (host["status"], host["privilege"]) == ("ok", "unprivileged")
    assert (
        f"add the sudoers line `{user} ALL=(root) NOPASSWD: {ss} -tuanpe`"
        in (host["privilege_note"])
    )
    assert "USER" not in host["privilege_note"]
