"""The SSH transport against a real OpenSSH sshd on loopback."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from fleetaudit.errors import TransportError
from fleetaudit.inventory.model import Host
from fleetaudit.lab.keys import generate_key, known_hosts_entry
from fleetaudit.model.enums import HostKeyPolicy, HostStatus
from fleetaudit.transport import CommandResult, SshSettings, SshTransport
from tests.sshd import SshdServer

pytestmark = pytest.mark.sshd


def settings(
    tmp: Path, lines: list[str], policy: HostKeyPolicy = HostKeyPolicy.STRICT
) -> SshSettings:
    known = tmp / "known_hosts"
    known.write_text("".join(line + "\n" for line in lines))
    return SshSettings(
        known_hosts=(known,),
        host_key_policy=policy,
        accept_new_file=tmp / "learnt",
        connect_timeout=5,
        login_timeout=5,
        use_ssh_config=False,
    )


def host(sshd: SshdServer, key: Path | None = None, user: str | None = None) -> Host:
    return Host(
        name="real",
        address=sshd.host,
        port=sshd.port,
        user=user or sshd.user,
        key=str(key or sshd.client_key),
    )


def run(transport: SshTransport, target: Host, command: str) -> CommandResult:
    async def go() -> CommandResult:
        async with await transport.open(target) as session:
            return await session.run(command, timeout=10)

    return asyncio.run(go())


def status_of(transport: SshTransport, target: Host) -> HostStatus:
    with pytest.raises(TransportError) as caught:
        run(transport, target, "true")
    return caught.value.status


def test_runs_a_command_and_reports_its_exit_status(sshd: SshdServer, tmp_path: Path) -> None:
    transport = SshTransport(settings(tmp_path, [sshd.known_hosts_entry]))
    result = run(transport, host(sshd), "echo out; echo err >&2; exit 3")
    assert (result.exit_status, result.stdout, result.stderr) == (3, "out\n", "err\n")


def test_unknown_and_changed_host_keys_are_refused(sshd: SshdServer, tmp_path: Path) -> None:
    assert (
        status_of(SshTransport(settings(tmp_path, [])), host(sshd)) is HostStatus.HOST_KEY_UNKNOWN
    )
    stale = known_hosts_entry(sshd.host, sshd.port, generate_key())
    for policy in (HostKeyPolicy.STRICT, HostKeyPolicy.ACCEPT_NEW):
        transport = SshTransport(settings(tmp_path, [stale], policy))
        assert status_of(transport, host(sshd)) is HostStatus.HOST_KEY_CHANGED


def test_accept_new_then_strict(sshd: SshdServer, tmp_path: Path) -> None:
    first = SshTransport(settings(tmp_path, [], HostKeyPolicy.ACCEPT_NEW))
    assert run(first, host(sshd), "true").exit_status == 0
    learnt = (tmp_path / "learnt").read_text()
    assert learnt.strip() == sshd.known_hosts_entry
    assert (
        run(SshTransport(settings(tmp_path, [learnt.strip()])), host(sshd), "true").exit_status == 0
    )


def test_unauthorised_key_is_auth_failed(sshd: SshdServer, tmp_path: Path) -> None:
    from fleetaudit.lab.keys import write_private_key

    other = write_private_key(generate_key(), tmp_path / "other_key")
    transport = SshTransport(settings(tmp_path, [sshd.known_hosts_entry]))
    with pytest.raises(TransportError) as caught:
        run(transport, host(sshd, key=other), "true")
    assert caught.value.status is HostStatus.AUTH_FAILED
    assert caught.value.message.endswith(f"(offered: key {other})"), caught.value.message


def test_missing_key_file_is_auth_failed_with_the_path(sshd: SshdServer, tmp_path: Path) -> None:
    transport = SshTransport(settings(tmp_path, [sshd.known_hosts_entry]))
    with pytest.raises(TransportError) as caught:
        run(transport, host(sshd, key=tmp_path / "nope"), "true")
    assert caught.value.status is HostStatus.AUTH_FAILED
    assert "nope" in caught.value.message
