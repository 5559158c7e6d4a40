"""Keys from an ssh-agent (encrypted key files), hashed known_hosts, @cert-authority and
keys learnt with --accept-new, against real OpenSSH processes on loopback."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import asyncssh
import pytest

from fleetaudit.auditor import Auditor
from fleetaudit.config import AuditConfig
from fleetaudit.errors import TransportError
from fleetaudit.inventory.model import Host
from fleetaudit.lab.keys import generate_key, known_hosts_entry, public_key_line
from fleetaudit.model.enums import HostKeyPolicy, HostStatus
from fleetaudit.model.host import HostSnapshot
from fleetaudit.policy import load_default_policy
from fleetaudit.transport import SshSettings, SshTransport
from fleetaudit.transport.hostkeys import HostKeyBook
from tests.sshd import SshdServer, start_sshd

pytestmark = pytest.mark.sshd


def settings(tmp: Path, lines: list[str]) -> SshSettings:
    known = tmp / "known_hosts"
    known.write_text("".join(line + "\n" for line in lines))
    return SshSettings(
        known_hosts=(known,), connect_timeout=5, login_timeout=5, use_ssh_config=False
    )


def exit_status(transport: SshTransport, host: Host) -> int | None:
    async def go() -> int | None:
        async with await transport.open(host) as session:
            return (await session.run("true", timeout=10)).exit_status

    return asyncio.run(go())


def target(sshd: SshdServer, key: Path | None = None) -> Host:
    return Host(
        name="t", address=sshd.host, port=sshd.port, user=sshd.user, key=str(key or sshd.client_key)
    )


@pytest.fixture
def encrypted_key(tmp_path: Path, sshd: SshdServer) -> Iterator[Path]:
    """An ed25519 key encrypted with a passphrase, authorised on the sshd for this test."""
    path = tmp_path / "encrypted"
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "secret pass", "-f", str(path)],
        check=True,
        timeout=30,
    )
    original = sshd.authorized_keys.read_text()
    sshd.authorized_keys.write_text(original + path.with_suffix(".pub").read_text())
    yield path
    sshd.authorized_keys.write_text(original)


@pytest.fixture
def agent(tmp_path: Path, encrypted_key: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A private ssh-agent holding the encrypted key; stopped by its recorded pid."""
    if shutil.which("ssh-agent") is None:
        pytest.skip("needs ssh-agent (openssh-client)")
    socket_path = str(tmp_path / "agent.sock")
    process = subprocess.Popen(["ssh-agent", "-D", "-a", socket_path], stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while not os.path.exists(socket_path) and time.monotonic() < deadline:
            time.sleep(0.05)
        askpass = tmp_path / "askpass"
        askpass.write_text("#!/bin/sh\necho 'secret pass'\n")
        askpass.chmod(0o700)
        env = {**os.environ, "SSH_AUTH_SOCK": socket_path, "SSH_ASKPASS": str(askpass),
               "SSH_ASKPASS_REQUIRE": "force", "DISPLAY": ":0"}  # fmt: skip
        subprocess.run(
            ["ssh-add", str(encrypted_key)], env=env, check=True, timeout=30, capture_output=True
        )
        monkeypatch.setenv("SSH_AUTH_SOCK", socket_path)
        yield socket_path
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_encrypted_key_without_an_agent_is_a_clear_auth_failure(
    tmp_path: Path, sshd: SshdServer, encrypted_key: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    transport = SshTransport(settings(tmp_path, [sshd.known_hosts_entry]))
    with pytest.raises(TransportError) as caught:
        exit_status(transport, target(sshd, encrypted_key))
    assert caught.value.status is HostStatus.AUTH_FAILED
    assert "encrypted" in caught.value.message and "ssh-add" in caught.value.message


def test_encrypted_key_through_the_agent(
    tmp_path: Path, sshd: SshdServer, encrypted_key: Path, agent: str
) -> None:
    transport = SshTransport(settings(tmp_path, [sshd.known_hosts_entry]))
    assert exit_status(transport, target(sshd, encrypted_key)) == 0


def _hashed(pattern: str, key_line: str) -> str:
    salt = os.urandom(20)
    digest = hmac.new(salt, pattern.encode(), hashlib.sha1).digest()
    return f"|1|{base64.b64encode(salt).decode()}|{base64.b64encode(digest).decode()} {key_line}"


def test_hashed_known_hosts_entries_are_trusted(tmp_path: Path, sshd: SshdServer) -> None:
    line = _hashed(f"[{sshd.host}]:{sshd.port}", sshd.host_key_public)
    transport = SshTransport(settings(tmp_path, [line]))
    assert exit_status(transport, target(sshd)) == 0
    wrong = _hashed(f"[{sshd.host}]:{sshd.port}", public_key_line(generate_key()))
    with pytest.raises(TransportError) as caught:
        exit_status(SshTransport(settings(tmp_path, [wrong])), target(sshd))
    assert caught.value.status is HostStatus.HOST_KEY_CHANGED


def test_cert_authority_trusts_a_host_certificate(tmp_path: Path) -> None:
    ca = generate_key()
    (tmp_path / "sshd").mkdir()
    for server in start_sshd(tmp_path / "sshd", host_ca=ca):
        trusted = f"@cert-authority [{server.host}]:{server.port} {public_key_line(ca)}"
        assert exit_status(SshTransport(settings(tmp_path, [trusted])), target(server)) == 0
        other_ca = f"@cert-authority * {public_key_line(generate_key())}"
        with pytest.raises(TransportError) as caught:
            exit_status(SshTransport(settings(tmp_path, [other_ca])), target(server))
        assert caught.value.status in (HostStatus.HOST_KEY_UNKNOWN, HostStatus.HOST_KEY_CHANGED)


def _audit(tmp: Path, sshd: SshdServer, policy: HostKeyPolicy, known: list[str]) -> HostSnapshot:
    """One host audited through the Auditor, as `fleetaudit run` assembles it."""
    (tmp / "known_hosts").write_text("".join(line + "\n" for line in known))
    config = AuditConfig(
        known_hosts=(tmp / "known_hosts",),
        accept_new_file=tmp / "state" / "known_hosts",
        host_key_policy=policy,
        connect_timeout=5,
        login_timeout=5,
        command_timeout=30,
        use_ssh_config=False,
    )
    [snapshot] = Auditor(config).run([target(sshd)], load_default_policy()).snapshots
    return snapshot


def test_a_strict_run_trusts_keys_an_earlier_accept_new_run_recorded(
    tmp_path: Path, sshd: SshdServer
) -> None:
    learnt = tmp_path / "state" / "known_hosts"
    assert _audit(tmp_path, sshd, HostKeyPolicy.STRICT, []).status is HostStatus.HOST_KEY_UNKNOWN
    assert _audit(tmp_path, sshd, HostKeyPolicy.ACCEPT_NEW, []).status is HostStatus.OK
    assert learnt.read_text().strip() == sshd.known_hosts_entry
    assert _audit(tmp_path, sshd, HostKeyPolicy.STRICT, []).status is HostStatus.OK


def test_refusals_name_the_files_consulted(tmp_path: Path, sshd: SshdServer) -> None:
    unknown = _audit(tmp_path, sshd, HostKeyPolicy.STRICT, [])
    assert unknown.error is not None and str(tmp_path / "known_hosts") in unknown.error
    learnt = tmp_path / "state" / "known_hosts"
    learnt.parent.mkdir()
    learnt.write_text(known_hosts_entry(sshd.host, sshd.port, generate_key()) + "\n")
    for policy in (HostKeyPolicy.STRICT, HostKeyPolicy.ACCEPT_NEW):
        changed = _audit(tmp_path, sshd, policy, [])
        assert changed.status is HostStatus.HOST_KEY_CHANGED, changed.error
        assert changed.error is not None
        offered = asyncssh.import_public_key(sshd.host_key_public).get_fingerprint("sha256")
        assert offered in changed.error, "the operator compares it with ssh-keyscan's"
        # QA: the message listed every file consulted, one that did not exist among them,
        # and not the one holding the stale entry; it names all of them, then that one, and
        # how to fix it (with the file's absolute path: cron's directory is not yours)
        consulted = f"{tmp_path / 'known_hosts'}, {learnt}"
        assert f"in known_hosts ({consulted}; the entry is in {learnt})" in changed.error
        entry = f"[{sshd.host}]:{sshd.port}"
        assert f"ssh-keygen -R '{entry}' -f {learnt}" in changed.error


def test_an_unknown_key_names_the_files_consulted_and_which_are_missing(tmp_path: Path) -> None:
    present, missing = tmp_path / "known_hosts", tmp_path / "absent_known_hosts"
    present.write_text("")
    book = HostKeyBook([present, missing], None)
    message = book.refusal_message(HostStatus.HOST_KEY_UNKNOWN, "audit@db1:22", generate_key())
    assert f"({present}, {missing}: missing)" in message


def test_a_changed_key_message_gives_the_offered_fingerprint(tmp_path: Path) -> None:
    known = tmp_path / "known_hosts"
    known.write_text("")
    offered = generate_key()
    book = HostKeyBook([known], None)
    message = book.refusal_message(HostStatus.HOST_KEY_CHANGED, "audit@db1:22", offered)
    fingerprint = offered.get_fingerprint("sha256")
    assert fingerprint.startswith("SHA256:") and fingerprint in message
    assert str(known) in message


def test_the_fix_for_a_changed_key_names_the_file_by_its_absolute_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """QA: `--known-hosts hk/kh1` gave `ssh-keygen -R ... -f hk/kh1`, which works only from
    the directory the run was started in (cron's is not the operator's)."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "kh1").write_text(known_hosts_entry("db1", 2222, generate_key()) + "\n")
    (tmp_path / "kh2").write_text("")
    book = HostKeyBook([Path("kh2"), Path("kh1")], None)
    message = book.refusal_message(
        HostStatus.HOST_KEY_CHANGED, "audit@db1:2222", generate_key(), ("db1", 2222)
    )
    assert "in known_hosts (kh2, kh1; the entry is in kh1)" in message
    assert f"ssh-keygen -R '[db1]:2222' -f {tmp_path / 'kh1'})" in message
