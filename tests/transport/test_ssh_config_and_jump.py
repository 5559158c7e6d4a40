"""ssh_config aliases and jump hosts, against real OpenSSH sshd processes on loopback."""

from __future__ import annotations

import asyncio
import getpass
import socket
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import timedelta
from pathlib import Path

import asyncssh
import pytest

from fleetaudit.collect.runner import CollectSettings, HostCapture, collect_fleet
from fleetaudit.errors import TransportError
from fleetaudit.inventory.model import Host
from fleetaudit.model.enums import HostStatus
from fleetaudit.transport import SshSettings, SshTransport
from fleetaudit.transport.errors import translate
from fleetaudit.transport.sshconfig import SshConfigView
from tests.sshd import SshdServer, start_sshd

pytestmark = pytest.mark.sshd


def settings(tmp: Path, servers: list[SshdServer], **extra: object) -> SshSettings:
    known = tmp / "known_hosts"
    known.write_text("".join(s.known_hosts_entry + "\n" for s in servers))
    values: dict[str, object] = {
        "known_hosts": (known,),
        "connect_timeout": 5,
        "login_timeout": 5,
        "use_ssh_config": False,
        **extra,
    }
    return SshSettings(**values)  # type: ignore[arg-type]


def run_all(transport: SshTransport, hosts: list[Host]) -> list[object]:
    async def one(host: Host) -> object:
        try:
            async with await transport.open(host) as session:
                return (await session.run("echo ok", timeout=10)).stdout
        except TransportError as exc:
            return exc

    async def everything() -> list[object]:
        try:
            return list(await asyncio.gather(*(one(h) for h in hosts)))
        finally:
            await transport.aclose()

    return asyncio.run(everything())


@pytest.fixture
def trio(tmp_path: Path, sshd: SshdServer) -> Iterator[tuple[SshdServer, SshdServer, SshdServer]]:
    """A jump host (logging its forwardings) and two targets, all trusting the session
    sshd's client key."""
    with ExitStack() as stack:
        servers = []
        for name, extra in (("jump", "LogLevel DEBUG1\n"), ("t1", ""), ("t2", "")):
            directory = tmp_path / name
            directory.mkdir()
            generator = start_sshd(directory, extra_config=extra)
            server = next(generator)
            stack.callback(generator.close)
            server.authorized_keys.write_text(sshd.authorized_keys.read_text())
            servers.append(server)
        yield servers[0], servers[1], servers[2]


def test_two_targets_behind_one_jump_connection(tmp_path: Path, sshd: SshdServer, trio) -> None:  # type: ignore[no-untyped-def]
    jump, first, second = trio
    transport = SshTransport(settings(tmp_path, [jump, first, second]))
    via = f"{sshd.user}@127.0.0.1:{jump.port}"
    hosts = [
        Host(
            name=n,
            address="127.0.0.1",
            port=s.port,
            user=sshd.user,
            key=str(sshd.client_key),
            jump=via,
        )
        for n, s in (("t1", first), ("t2", second))
    ]
    assert run_all(transport, hosts) == ["ok\n", "ok\n"]
    assert transport.jump_connections_opened == 1
    log = (tmp_path / "jump" / "sshd.log").read_text()
    for target in (first, second):
        assert f"target 127.0.0.1 port {target.port}" in log, "the jump host forwarded it"


def test_a_failing_jump_host_fails_the_hosts_behind_it(
    tmp_path: Path, sshd: SshdServer, refused_port: int
) -> None:
    dead = refused_port
    transport = SshTransport(settings(tmp_path, [sshd]))
    host = Host(name="t", address="127.0.0.1", port=sshd.port, user=sshd.user,
                key=str(sshd.client_key), jump=f"127.0.0.1:{dead}")  # fmt: skip
    [result] = run_all(transport, [host])
    assert isinstance(result, TransportError)
    assert result.status is HostStatus.UNREACHABLE
    assert result.message == f"jump host 127.0.0.1:{dead}: connection refused"  # named once


def test_an_unreadable_key_of_a_host_behind_a_jump_host_names_the_jump_host(
    tmp_path: Path, sshd: SshdServer, refused_port: int
) -> None:
    """Its key is read before the jump host is reached, and its message named the target
    alone, where every other failure of such a host says which jump host it is behind."""
    missing = tmp_path / "no-such-key"
    jump = f"127.0.0.1:{refused_port}"
    transport = SshTransport(settings(tmp_path, [sshd]))
    host = Host(name="t", address="127.0.0.1", port=sshd.port, user=sshd.user,
                key=str(missing), jump=jump)  # fmt: skip
    [result] = run_all(transport, [host])
    assert isinstance(result, TransportError)
    assert result.status is HostStatus.AUTH_FAILED
    assert result.message == (
        f"{sshd.user}@127.0.0.1:{sshd.port} via {jump}: cannot read {missing}: "
        "No such file or directory"
    )


def test_a_key_file_that_holds_no_key_is_named(tmp_path: Path, sshd: SshdServer) -> None:
    """ "unusable private key: Invalid private key" named no file (QA)."""
    garbage = tmp_path / "id_garbage"
    garbage.write_text("this is not a key\n")
    transport = SshTransport(settings(tmp_path, [sshd]))
    host = Host(name="t", address="127.0.0.1", port=sshd.port, user=sshd.user, key=str(garbage))
    [result] = run_all(transport, [host])
    assert isinstance(result, TransportError) and result.status is HostStatus.AUTH_FAILED
    assert result.message.startswith(f"{sshd.user}@127.0.0.1:{sshd.port}: unusable private key")
    assert result.message.endswith(f"({garbage})")


def test_a_jump_host_that_cannot_be_reached_is_not_tried_again_for_each_host(
    tmp_path: Path, sshd: SshdServer
) -> None:
    """Each host behind a silent bastion tried it in turn, one --connect-timeout each
    under one lock: the eighth waited eight timeouts (the hundredth, its deadline)."""
    with socket.socket() as silent:  # accepts TCP, never sends a banner
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        jump = f"127.0.0.1:{silent.getsockname()[1]}"
        transport = SshTransport(settings(tmp_path, [sshd], connect_timeout=1))
        hosts = [
            Host(name=f"t{i}", address="127.0.0.1", port=sshd.port, user=sshd.user, jump=jump)
            for i in range(8)
        ]
        results = run_all(transport, hosts)
    assert all(isinstance(r, TransportError) for r in results)
    errors = [r for r in results if isinstance(r, TransportError)]
    assert {e.status for e in errors} == {HostStatus.TIMEOUT}
    tried = [e for e in errors if "not tried again" not in e.message]
    assert len(tried) == 1, [e.message for e in errors]
    assert tried[0].message.startswith(f"jump host {jump} ")


def test_waiting_for_a_jump_hosts_tunnel_does_not_use_up_a_hosts_deadline(
    tmp_path: Path, sshd: SshdServer
) -> None:
    """A jump host tunnels a bounded number of targets at once. A host's deadline used to
    start before it waited for a tunnel, so a healthy host queued behind stalled ones ran
    out of time without ever being tried, and was reported `timeout`, which
    --allow-unreachable excuses (QA: 60 healthy hosts behind 40 stalled ones, 0 audited)."""
    with socket.socket() as silent:  # a target that accepts TCP and never sends a banner
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        via = f"{sshd.user}@127.0.0.1:{sshd.port}"
        stalled = Host(name="stalled", address="127.0.0.1", port=silent.getsockname()[1],
                       user=sshd.user, key=str(sshd.client_key), jump=via)  # fmt: skip
        healthy = Host(name="healthy", address="127.0.0.1", port=sshd.port, user=sshd.user,
                       key=str(sshd.client_key), jump=via)  # fmt: skip
        transport = SshTransport(settings(tmp_path, [sshd], connect_timeout=10, jump_concurrency=1))
        collect = CollectSettings(concurrency=2, host_deadline=3, command_timeout=5)

        async def audit() -> dict[str, HostCapture]:
            try:
                fleet = collect_fleet([stalled, healthy], lambda _: transport, collect)
                return {capture.host.name: capture async for capture in fleet}
            finally:
                await transport.aclose()

        captures = asyncio.run(audit())
    assert captures["stalled"].status is HostStatus.TIMEOUT
    assert captures["healthy"].status is HostStatus.OK, captures["healthy"].error
    # one tunnel at a time: the healthy host's clock started only once the stalled host
    # had given the tunnel up, so its duration is its own time, not the wait
    stalled = captures["stalled"]
    stalled_ended = stalled.started_at + timedelta(seconds=stalled.duration_s)
    assert captures["healthy"].started_at >= stalled_ended - timedelta(milliseconds=100)


def test_a_host_reached_directly_does_not_wait_behind_a_busy_jump_host(
    tmp_path: Path, sshd: SshdServer
) -> None:
    """QA at scale: with a bastion's hosts first in the inventory, every worker took one of
    them and waited for a tunnel, and the hosts reached directly waited for a worker (80 of
    100 places idle). A host whose jump host is busy is now put aside for one that can
    start: here the direct host, listed last, is done first."""
    with socket.socket() as silent:  # behind the jump host: accepts TCP, never speaks
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        via = f"{sshd.user}@127.0.0.1:{sshd.port}"
        key = str(sshd.client_key)
        hosts = [
            Host(name="stalled", address="127.0.0.1", port=silent.getsockname()[1],
                 user=sshd.user, key=key, jump=via),
            Host(name="queued", address="127.0.0.1", port=sshd.port, user=sshd.user, key=key,
                 jump=via),
            Host(name="direct", address="127.0.0.1", port=sshd.port, user=sshd.user, key=key),
        ]  # fmt: skip
        transport = SshTransport(settings(tmp_path, [sshd], connect_timeout=10, jump_concurrency=1))
        collect = CollectSettings(concurrency=2, host_deadline=3, command_timeout=5)

        async def audit() -> list[HostCapture]:
            try:
                return [c async for c in collect_fleet(hosts, lambda _: transport, collect)]
            finally:
                await transport.aclose()

        captures = asyncio.run(audit())
    assert [c.host.name for c in captures][0] == "direct"
    assert {c.host.name: c.status for c in captures} == {
        "stalled": HostStatus.TIMEOUT,
        "queued": HostStatus.OK,
        "direct": HostStatus.OK,
    }


def test_a_target_the_jump_host_cannot_reach_is_an_outage_not_an_ssh_error(
    tmp_path: Path, sshd: SshdServer, refused_port: int
) -> None:
    """As without a jump host: a refused port is `unreachable` (and a name the jump host
    cannot resolve `unresolvable`), which --allow-unreachable excuses."""
    transport = SshTransport(settings(tmp_path, [sshd]))
    via = f"{sshd.user}@127.0.0.1:{sshd.port}"
    host = Host(name="refused", address="127.0.0.1", port=refused_port, user=sshd.user,
                key=str(sshd.client_key), jump=via)  # fmt: skip
    [refused] = run_all(transport, [host])
    assert isinstance(refused, TransportError)
    assert refused.status is HostStatus.UNREACHABLE
    assert "the jump host could not connect to it: Connection refused" in refused.message
    # what sshd answers for a name it cannot resolve (no lookup leaves this machine here)
    unresolved = asyncssh.ChannelOpenError(
        asyncssh.OPEN_CONNECT_FAILED, "Temporary failure in name resolution"
    )
    error = translate(unresolved, where="db1:22", phase="connect")
    assert error.status is HostStatus.UNRESOLVABLE
    prohibited = asyncssh.ChannelOpenError(asyncssh.OPEN_ADMINISTRATIVELY_PROHIBITED, "no")
    assert translate(prohibited, where="db1:22", phase="connect").status is HostStatus.SSH_ERROR


def test_a_jump_host_that_does_not_forward_is_named_as_the_cause(
    tmp_path: Path, sshd: SshdServer
) -> None:
    """sshd's `AllowTcpForwarding no` answers the forward with "open failed": an SSH error
    (no outage for --allow-unreachable to excuse) that says where to look."""
    directory = tmp_path / "no-forwarding"
    directory.mkdir()
    generator = start_sshd(directory, extra_config="AllowTcpForwarding no\n")
    jump = next(generator)
    try:
        jump.authorized_keys.write_text(sshd.authorized_keys.read_text())
        transport = SshTransport(settings(tmp_path, [sshd, jump]))
        via = f"{sshd.user}@127.0.0.1:{jump.port}"
        host = Host(name="t", address="127.0.0.1", port=sshd.port, user=sshd.user,
                    key=str(sshd.client_key), jump=via)  # fmt: skip
        [refused] = run_all(transport, [host])
    finally:
        generator.close()
    assert isinstance(refused, TransportError)
    assert refused.status is HostStatus.SSH_ERROR
    assert "the jump host refused to forward a connection to it (open failed)" in refused.message
    assert "AllowTcpForwarding" in refused.message


def _config(tmp: Path, sshd: SshdServer, port: int) -> Path:
    path = tmp / "ssh_config"
    path.write_text(
        "Host myalias\n"
        "  HostName 127.0.0.1\n"
        f"  Port {port}\n"
        f"  User {sshd.user}\n"
        f"  IdentityFile {sshd.client_key}\n"
    )
    return path


def test_ssh_config_alias_supplies_hostname_port_user_and_key(
    tmp_path: Path, sshd: SshdServer
) -> None:
    config = _config(tmp_path, sshd, sshd.port)
    transport = SshTransport(settings(tmp_path, [sshd], use_ssh_config=True, ssh_config=config))
    assert run_all(transport, [Host(name="myalias", address="myalias")]) == ["ok\n"]


def test_inventory_values_win_over_ssh_config(tmp_path: Path, sshd: SshdServer) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        config = _config(tmp_path, sshd, holder.getsockname()[1])  # a port that refuses
        transport = SshTransport(settings(tmp_path, [sshd], use_ssh_config=True, ssh_config=config))
        alias = Host(name="myalias", address="myalias", port=sshd.port)
        assert run_all(transport, [alias]) == ["ok\n"]


def test_a_failure_names_the_target_ssh_config_made_of_the_host(
    tmp_path: Path, sshd: SshdServer
) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        dead = holder.getsockname()[1]  # a port that refuses
        config = _config(tmp_path, sshd, dead)
        transport = SshTransport(settings(tmp_path, [sshd], use_ssh_config=True, ssh_config=config))
        [failed, plain] = run_all(
            transport,
            [
                Host(name="myalias", address="myalias"),
                Host(name="p", address="127.0.0.1", port=dead),
            ],
        )
    assert isinstance(failed, TransportError) and failed.status is HostStatus.UNREACHABLE
    assert (
        failed.message
        == f"myalias:{dead} ({sshd.user}@127.0.0.1:{dead} by ssh_config): connection refused"
    )
    # a host the config leaves alone is named as before
    assert isinstance(plain, TransportError)
    assert plain.message == f"127.0.0.1:{dead}: connection refused"


def test_messages_name_the_port_ssh_config_gives_a_host_without_one(
    tmp_path: Path, sshd: SshdServer
) -> None:
    """The inventory gives no port and ssh_config's ``Port`` is used: messages, before and
    after the login, name that port, not the 22 the inventory would default to."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        dead = holder.getsockname()[1]  # a port that refuses
        config = tmp_path / "ssh_config"
        config.write_text(
            f"Host 127.0.0.1\n  Port {dead}\n"
            f"Host srv\n  HostName 127.0.0.1\n  Port {sshd.port}\n  User {sshd.user}\n"
            f"  IdentityFile {sshd.client_key}\n"
        )
        transport = SshTransport(settings(tmp_path, [sshd], use_ssh_config=True, ssh_config=config))
        [refused] = run_all(transport, [Host(name="a", address="127.0.0.1")])
        assert isinstance(refused, TransportError)
        assert refused.message == f"127.0.0.1:{dead}: connection refused"

        async def stalled() -> TransportError:
            transport = SshTransport(
                settings(tmp_path, [sshd], use_ssh_config=True, ssh_config=config)
            )
            try:
                async with await transport.open(Host(name="b", address="srv")) as session:
                    await session.run("sleep 5", timeout=0.5)
            except TransportError as exc:
                return exc
            finally:
                await transport.aclose()
            raise AssertionError("the command did not time out")

        timed_out = asyncio.run(stalled())
        assert timed_out.message.startswith(f"srv:{sshd.port}: the listing did not finish")


def test_a_jump_host_is_named_with_the_port_ssh_config_gives_it(
    tmp_path: Path, sshd: SshdServer
) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        dead = holder.getsockname()[1]  # a port that refuses
        config = tmp_path / "ssh_config"
        config.write_text(f"Host deadjump\n  HostName 127.0.0.1\n  Port {dead}\n")
        transport = SshTransport(settings(tmp_path, [sshd], use_ssh_config=True, ssh_config=config))
        host = Host(name="t", address="127.0.0.1", port=sshd.port, jump="deadjump")
        [failed] = run_all(transport, [host])
    assert isinstance(failed, TransportError)
    me = getpass.getuser()
    expected = (
        f"jump host deadjump:{dead} ({me}@127.0.0.1:{dead} by ssh_config): connection refused"
    )
    assert failed.message == expected


def test_an_ipv6_address_is_named_in_brackets(tmp_path: Path, sshd: SshdServer) -> None:
    with socket.socket(socket.AF_INET6) as holder:
        try:
            holder.bind(("::1", 0))
        except OSError:
            pytest.skip("no IPv6 loopback here")
        dead = holder.getsockname()[1]
        transport = SshTransport(settings(tmp_path, [sshd]))
        [failed] = run_all(transport, [Host(name="v6", address="::1", port=dead)])
    assert isinstance(failed, TransportError)
    assert failed.message == f"[::1]:{dead}: connection refused"


def test_a_jump_host_that_ssh_config_sends_through_itself_is_named(
    tmp_path: Path, sshd: SshdServer
) -> None:
    config = tmp_path / "ssh_config"
    config.write_text(f"Host *\n  ProxyJump {sshd.user}@127.0.0.1:{sshd.port}\n")
    transport = SshTransport(settings(tmp_path, [sshd], use_ssh_config=True, ssh_config=config))
    host = Host(name="t", address="127.0.0.1", port=sshd.port, user=sshd.user)
    [result] = run_all(transport, [host])
    assert isinstance(result, TransportError) and result.status is HostStatus.SSH_ERROR
    assert "ssh_config sends the jump host through itself" in result.message, result.message


def test_the_target_of_an_ipv6_hostname_is_bracketed(tmp_path: Path) -> None:
    config = tmp_path / "ssh_config"
    config.write_text("Host v6\n  HostName ::1\n  Port 2226\n  User audit\n")
    view = SshConfigView(True, config)
    where = asyncio.run(view.described("v6:2226", "v6", {"config": [str(config)]}))
    assert where == "v6:2226 (audit@[::1]:2226 by ssh_config)"


def test_proxyjump_from_ssh_config_shares_one_jump_connection(
    tmp_path: Path, sshd: SshdServer, trio
) -> None:  # type: ignore[no-untyped-def]
    jump, first, second = trio
    config = tmp_path / "ssh_config"
    config.write_text(
        "".join(
            f"Host {alias}\n  HostName 127.0.0.1\n  Port {server.port}\n"
            for alias, server in (("first", first), ("second", second))
        )
        + f"Host first second\n  ProxyJump {sshd.user}@127.0.0.1:{jump.port}\n"
        + f"Host *\n  User {sshd.user}\n  IdentityFile {sshd.client_key}\n"
    )
    transport = SshTransport(
        settings(tmp_path, [jump, first, second], use_ssh_config=True, ssh_config=config)
    )
    hosts = [Host(name=alias, address=alias) for alias in ("first", "second")]
    assert run_all(transport, hosts) == ["ok\n", "ok\n"]
    assert transport.jump_connections_opened == 1
    log = (tmp_path / "jump" / "sshd.log").read_text()
    assert all(f"target 127.0.0.1 port {s.port}" in log for s in (first, second))


@pytest.mark.timeout(90)
def test_match_exec_commands_of_two_hosts_run_at_the_same_time(
    tmp_path: Path, sshd: SshdServer
) -> None:
    """Each host's ``Match exec`` command waits (up to 10 s) for the other's to start: on
    the event loop, one command stopped every other host, so the first one waited in vain,
    did not match, and its host was looked up under its alias and failed."""
    meet = tmp_path / "meet"
    meet.write_text(
        f'touch "{tmp_path}/$1.ran"; i=0\n'
        f'while [ ! -e "{tmp_path}/$2.ran" ] && [ "$i" -lt 200 ]; do sleep 0.05; i=$((i+1)); done\n'
        f'[ -e "{tmp_path}/$2.ran" ]\n'
    )
    config = tmp_path / "ssh_config"
    config.write_text(
        f'Match host first exec "sh {meet} first second"\n  HostName 127.0.0.1\n'
        f'Match host second exec "sh {meet} second first"\n  HostName 127.0.0.1\n'
        f"Host *\n  Port {sshd.port}\n  User {sshd.user}\n  IdentityFile {sshd.client_key}\n"
    )
    transport = SshTransport(settings(tmp_path, [sshd], use_ssh_config=True, ssh_config=config))
    hosts = [Host(name=name, address=name) for name in ("first", "second")]
    assert run_all(transport, hosts) == ["ok\n", "ok\n"]


@pytest.mark.timeout(90)
def test_a_hung_match_exec_fails_its_host_at_the_connect_timeout(
    tmp_path: Path, sshd: SshdServer
) -> None:
    """With a ProxyJump in the config, a host's config is read while it waits for a jump
    host's tunnel, outside its deadline: a hung Match exec held it, and the run, for ever
    (QA). Its command here ends by itself a few seconds later."""
    config = tmp_path / "ssh_config"
    config.write_text(
        'Match host stuck exec "sleep 4"\n  HostName 127.0.0.1\n'
        f"Host elsewhere\n  ProxyJump {sshd.user}@127.0.0.1:{sshd.port}\n"
        f"Host *\n  Port {sshd.port}\n  User {sshd.user}\n  IdentityFile {sshd.client_key}\n"
    )
    transport = SshTransport(
        settings(tmp_path, [sshd], use_ssh_config=True, ssh_config=config, connect_timeout=1)
    )
    collect = CollectSettings(concurrency=2, host_deadline=60, command_timeout=5)
    healthy = Host(name="ok", address="127.0.0.1", port=sshd.port, user=sshd.user,
                   key=str(sshd.client_key))  # fmt: skip

    async def audit() -> dict[str, HostCapture]:
        try:
            hosts = [Host(name="stuck", address="stuck"), healthy]
            return {
                c.host.name: c async for c in collect_fleet(hosts, lambda _: transport, collect)
            }
        finally:
            await transport.aclose()

    captures = asyncio.run(audit())
    stuck = captures["stuck"]
    # the audit machine's own config failed: not a timeout --allow-unreachable would excuse
    assert stuck.status is HostStatus.SSH_ERROR, stuck.error
    assert "stuck or its jump host: ssh_config's Match exec commands did not finish within 1s" in (
        stuck.error or ""
    )
    assert captures["ok"].status is HostStatus.OK, captures["ok"].error
