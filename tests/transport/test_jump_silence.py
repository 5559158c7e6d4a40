"""A jump connection that goes silent mid-run: a firewall or NAT in front of the bastion
forgot it (a failover, a full state table). Nothing closes it, so without a check the hosts
behind the bastion wait on it, one --connect-timeout each, until TCP gives up (about 15
minutes) or, when the firewall still acknowledges, for the rest of the run. Real OpenSSH
sshd on loopback, reached through a relay that freezes the connections it carries."""

from __future__ import annotations

import asyncio
import socket
import time
from pathlib import Path

import pytest

from fleetaudit.auditor import Auditor
from fleetaudit.config import AuditConfig
from fleetaudit.errors import TransportError
from fleetaudit.inventory.model import Host
from fleetaudit.model.enums import HostStatus
from fleetaudit.policy import load_default_policy
from fleetaudit.transport import SshSettings, SshTransport
from fleetaudit.transport.jump import silence_keepalives
from fleetaudit.transport.sshconfig import SshConfigView
from tests.relay import FreezingRelay
from tests.sshd import SshdServer

pytestmark = pytest.mark.sshd


def _settings(tmp: Path, sshd: SshdServer, relay: FreezingRelay, **extra: object) -> SshSettings:
    known = tmp / "known_hosts"
    relayed = f"[127.0.0.1]:{relay.port} {sshd.host_key_public}"  # the jump host, as reached
    known.write_text(f"{sshd.known_hosts_entry}\n{relayed}\n")
    values: dict[str, object] = {
        "known_hosts": (known,),
        "connect_timeout": 2,
        "login_timeout": 2,
        "use_ssh_config": False,
        **extra,
    }
    return SshSettings(**values)  # type: ignore[arg-type]


def _hosts(sshd: SshdServer, via: str, count: int) -> list[Host]:
    return [
        Host(
            name=f"t{i}",
            address="127.0.0.1",
            port=sshd.port,
            user=sshd.user,
            key=str(sshd.client_key),
            jump=via,
        )  # fmt: skip
        for i in range(count)
    ]


async def _audit(transport: SshTransport, host: Host) -> str | TransportError:
    try:
        async with await transport.open(host) as session:
            return (await session.run("echo ok", timeout=5)).stdout
    except TransportError as exc:
        return exc


def test_a_jump_connection_that_goes_silent_is_replaced(tmp_path: Path, sshd: SshdServer) -> None:
    with FreezingRelay(sshd.port) as relay:
        first, second, third = _hosts(sshd, f"{sshd.user}@127.0.0.1:{relay.port}", 3)
        transport = SshTransport(_settings(tmp_path, sshd, relay, jump_silence_s=3.0))

        async def audit() -> list[str | TransportError]:
            try:
                before = await _audit(transport, first)
                assert relay.freeze() == 1, "the one jump connection"
                frozen_at = time.monotonic()
                during = await _audit(transport, second)
                # a host started once the silence is older than the limit gets a new one
                await asyncio.sleep(max(0.0, frozen_at + 3.5 - time.monotonic()))
                return [before, during, await _audit(transport, third)]
            finally:
                await transport.aclose()

        before, during, after = asyncio.run(audit())
    assert before == "ok\n"
    assert isinstance(during, TransportError)
    assert after == "ok\n", after
    assert transport.jump_connections_opened == 2


def test_the_hosts_on_a_silent_jump_connection_name_the_silence(
    tmp_path: Path, sshd: SshdServer
) -> None:
    with FreezingRelay(sshd.port) as relay:
        first, second = _hosts(sshd, f"{sshd.user}@127.0.0.1:{relay.port}", 2)
        settings = _settings(tmp_path, sshd, relay, jump_silence_s=1.5, connect_timeout=5)
        transport = SshTransport(settings)

        async def audit() -> str | TransportError:
            try:
                assert await _audit(transport, first) == "ok\n"
                relay.freeze()
                return await _audit(transport, second)
            finally:
                await transport.aclose()

        started = time.monotonic()
        during = asyncio.run(audit())
        waited = time.monotonic() - started
    assert isinstance(during, TransportError)
    assert during.status is HostStatus.CONNECTION_LOST, during
    assert waited < 4.5, "given up after the silence limit, not the connect timeout"
    assert (
        f"jump host {sshd.user}@127.0.0.1:{relay.port} sent nothing for 1.5 s" in during.message
    ), during.message


def test_a_run_audits_the_hosts_after_a_jump_connection_went_silent(
    tmp_path: Path, sshd: SshdServer
) -> None:
    """The whole audit, with the run's own limit: the host deadline (here 1 + 1 + 1 + 5 s).
    A direct host that hangs gives the jump connection an idle moment, in which the relay
    freezes it; the hosts behind the jump host then fail until the limit passes, and the
    ones after get a new connection. Before, all of them failed."""
    with FreezingRelay(sshd.port, freeze_idle=0.5) as relay, socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(4)
        via = f"{sshd.user}@127.0.0.1:{relay.port}"
        first, *later = _hosts(sshd, via, 12)
        hangs = Host(name="hangs", address="127.0.0.1", port=silent.getsockname()[1],
                     user=sshd.user, key=str(sshd.client_key))  # fmt: skip
        config = AuditConfig(
            known_hosts=_settings(tmp_path, sshd, relay).known_hosts,
            connect_timeout=1, login_timeout=1, command_timeout=1, concurrency=1,
            use_ssh_config=False,
        )  # fmt: skip
        assert config.host_deadline == 8
        result = Auditor(config).run([first, hangs, *later], load_default_policy())
    hosts = {snapshot.host: snapshot for snapshot in result.snapshots}
    assert relay.frozen_at is not None
    assert hosts["t0"].status is HostStatus.OK
    assert hosts["hangs"].status is HostStatus.TIMEOUT
    statuses = [hosts[host.name].status for host in later]
    assert statuses[0] is not HostStatus.OK, "on the frozen connection"
    assert statuses[-2:] == [HostStatus.OK, HostStatus.OK], [
        (host.name, hosts[host.name].status.value, hosts[host.name].error) for host in later
    ]


def test_ssh_configs_server_alive_interval_for_a_jump_host_wins(tmp_path: Path) -> None:
    """A user who set ServerAliveInterval (0: no keepalives) for a jump host chose how its
    silence is handled; asyncssh applies that, and fleetaudit adds nothing."""
    config = tmp_path / "ssh_config"
    config.write_text("Host quiet-bastion\n  ServerAliveInterval 0\nHost busy-bastion\n"
                      "  ServerAliveInterval 5\n")  # fmt: skip
    view = SshConfigView(True, config)
    for configured in ("quiet-bastion", "busy-bastion"):
        resolved = view.resolve(configured)
        assert resolved is not None
        assert silence_keepalives(65.0, resolved.server_alive_interval) == {}
    other = view.resolve("bastion")
    assert other is not None and other.server_alive_interval is None
    given_up_after = silence_keepalives(65.0, other.server_alive_interval)
    assert given_up_after == {"keepalive_interval": 65.0 / 3, "keepalive_count_max": 2}
