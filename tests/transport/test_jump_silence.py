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
from fleetaudit.transport.silence import SilenceLimit
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


def test_a_tunnel_that_times_out_shortens_the_limit(tmp_path: Path, sshd: SshdServer) -> None:
    """QA: with the host deadline as the only limit, a silent bastion connection cost 159
    hosts (20 tunnels, each host failing after --connect-timeout). A tunnel that times out
    while opening is the first sign: the limit becomes twice the connect timeout from
    then, which a live jump host meets by answering a keepalive."""
    with FreezingRelay(sshd.port) as relay:
        first, second, third = _hosts(sshd, f"{sshd.user}@127.0.0.1:{relay.port}", 3)
        settings = _settings(tmp_path, sshd, relay, jump_silence_s=60.0, connect_timeout=1)
        transport = SshTransport(settings)

        async def audit() -> list[str | TransportError]:
            try:
                before = await _audit(transport, first)
                relay.freeze()
                during = await _audit(transport, second)
                await asyncio.sleep(2.5)  # the shortened limit, 2 x 1 s, and a margin
                return [before, during, await _audit(transport, third)]
            finally:
                await transport.aclose()

        before, during, after = asyncio.run(audit())
    assert before == "ok\n"
    assert isinstance(during, TransportError) and during.status is HostStatus.TIMEOUT
    assert after == "ok\n", after
    assert transport.jump_connections_opened == 2


def test_a_live_jump_host_keeps_its_connection_when_a_target_times_out(
    tmp_path: Path, sshd: SshdServer
) -> None:
    """A target that accepts TCP and never speaks times out behind the jump host too; the
    jump host itself answers the keepalives, so its connection is kept."""
    with FreezingRelay(sshd.port) as relay, socket.socket() as mute:
        mute.bind(("127.0.0.1", 0))
        mute.listen(4)
        via = f"{sshd.user}@127.0.0.1:{relay.port}"
        first, second = _hosts(sshd, via, 2)
        stalled = first.model_copy(update={"name": "stalled", "port": mute.getsockname()[1]})
        settings = _settings(tmp_path, sshd, relay, jump_silence_s=60.0, connect_timeout=1)
        transport = SshTransport(settings)

        async def audit() -> list[str | TransportError]:
            try:
                results = [await _audit(transport, first), await _audit(transport, stalled)]
                await asyncio.sleep(3)  # past the shortened limit: keepalives answered
                return [*results, await _audit(transport, second)]
            finally:
                await transport.aclose()

        before, stalled_result, after = asyncio.run(audit())
    assert before == after == "ok\n"
    assert isinstance(stalled_result, TransportError)
    assert stalled_result.status is HostStatus.TIMEOUT
    assert transport.jump_connections_opened == 1


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

        during = asyncio.run(audit())
    assert isinstance(during, TransportError)
    # given up by the 1.5 s limit: the 5 s connect timeout would have made it `timeout`
    assert during.status is HostStatus.CONNECTION_LOST, during
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
    failed = statuses.index(HostStatus.OK)
    seen = [(host.name, hosts[host.name].status.value, hosts[host.name].error) for host in later]
    assert failed >= 1, "the first host after the freeze is on the frozen connection"
    # given up two connect timeouts after the first tunnel timed out, not at the deadline
    assert failed <= 5, seen
    assert statuses[failed:] == [HostStatus.OK] * (len(later) - failed), seen


def test_ssh_configs_server_alive_interval_for_a_jump_host_wins(tmp_path: Path) -> None:
    """A user who set ServerAliveInterval (0: no keepalives) for a jump host chose how its
    silence is handled; asyncssh applies that, fleetaudit adds nothing and shortens
    nothing, and a message names the setting."""
    config = tmp_path / "ssh_config"
    config.write_text("Host quiet-bastion\n  ServerAliveInterval 0\nHost busy-bastion\n"
                      "  ServerAliveInterval 5\n  ServerAliveCountMax 2\n"
                      "Host plain-bastion\n  ServerAliveInterval 3\n")  # fmt: skip
    view = SshConfigView(True, config)

    def limit(name: str) -> SilenceLimit | None:
        resolved = view.resolve(name)
        assert resolved is not None
        interval, count = resolved.server_alive_interval, resolved.server_alive_count_max
        return SilenceLimit.for_jump(65.0, interval, count)

    assert limit("quiet-bastion") is None
    busy, plain, ours = limit("busy-bastion"), limit("plain-bastion"), limit("bastion")
    assert busy is not None and plain is not None and ours is not None
    assert busy.options() == {} and busy.shortened(1.0) is None
    assert str(busy) == "about 15 s (ssh_config's ServerAliveInterval 5, ServerAliveCountMax 2)"
    assert str(plain) == "about 12 s (ssh_config's ServerAliveInterval 3, ServerAliveCountMax 3)"
    assert ours.options() == {"keepalive_interval": 65.0 / 3, "keepalive_count_max": 2}
    assert str(ours) == "65 s"
    shorter = ours.shortened(10.0)
    assert shorter is not None and str(shorter) == "20 s"
    assert shorter.shortened(10.0) is None, "never longer, and not again"
