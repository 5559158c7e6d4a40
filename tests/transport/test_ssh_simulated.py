"""The SSH transport against real asyncssh servers on loopback (the simulated hosts)."""

from __future__ import annotations

import asyncio
import stat
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import pytest

from fleetaudit.errors import TransportError
from fleetaudit.lab.keys import generate_key, known_hosts_entry
from fleetaudit.lab.sshserver import Behaviour, SimulatedHost
from fleetaudit.model.enums import HostKeyPolicy, HostStatus
from fleetaudit.transport import CommandResult, SshSettings, SshTransport
from tests.transport.helpers import Client, open_fds

T = TypeVar("T")


def echo(command: str) -> tuple[int, str, str]:
    return 0, f"ran: {command}\n", ""


def run(coroutine: Awaitable[T]) -> T:
    async def bounded() -> T:
        async with asyncio.timeout(60):
            return await coroutine

    return asyncio.run(bounded())


async def _exec(
    client: Client,
    settings: Callable[[SimulatedHost], SshSettings],
    *,
    behaviour: Behaviour = Behaviour.NORMAL,
    responder: Callable[[str], tuple[int, str, str]] = echo,
    user: str = "audit",
    timeout: float = 10.0,
    authorized: Client | None = None,
) -> CommandResult:
    keys = [(authorized or client).key]
    async with SimulatedHost(responder, authorized_keys=keys, behaviour=behaviour) as srv:
        transport = SshTransport(settings(srv))
        session = await transport.open(client.host(srv.port, user=user))
        async with session:
            return await session.run("ss -tuanpe", timeout=timeout)


def failure(coroutine: Awaitable[object]) -> TransportError:
    with pytest.raises(TransportError) as caught:
        run(coroutine)
    return caught.value


@pytest.fixture
def client(tmp_path: Path) -> Client:
    return Client.create(tmp_path)


def test_known_host_key_and_authorised_key_run_the_command(client: Client) -> None:
    result = run(_exec(client, lambda srv: client.settings([srv.known_hosts_entry()])))
    assert (result.exit_status, result.stdout, result.truncated) == (0, "ran: ss -tuanpe\n", False)


def test_unknown_host_key_is_refused_with_a_hint(client: Client) -> None:
    error = failure(_exec(client, lambda srv: client.settings([])))
    assert error.status is HostStatus.HOST_KEY_UNKNOWN
    assert "--accept-new" in error.message


def test_changed_host_key_is_refused_even_under_accept_new(client: Client) -> None:
    def stale(srv: SimulatedHost, policy: HostKeyPolicy) -> SshSettings:
        return client.settings([known_hosts_entry(srv.address, srv.port, generate_key())], policy)

    for policy in (HostKeyPolicy.STRICT, HostKeyPolicy.ACCEPT_NEW):
        error = failure(_exec(client, lambda srv, p=policy: stale(srv, p)))  # type: ignore[misc]
        assert error.status is HostStatus.HOST_KEY_CHANGED
        assert "CHANGED" in error.message
    assert not (client.tmp / "state" / "known_hosts").exists()


def _by_name(
    client: Client, entries: Callable[[SimulatedHost], list[str]], policy: HostKeyPolicy
) -> Awaitable[CommandResult]:
    """Run the command on a simulated host reached by the name ``localhost``."""

    async def scenario() -> CommandResult:
        async with SimulatedHost(echo, authorized_keys=[client.key]) as srv:
            transport = SshTransport(client.settings(entries(srv), policy))
            host = client.host(srv.port, address="localhost")
            async with await transport.open(host) as session:
                return await session.run("x", timeout=5)

    return scenario()


def test_a_key_listed_for_the_address_does_not_override_the_names_entry(client: Client) -> None:
    """As OpenSSH: the host's name decides. Its entry lists another key, so the key the
    server offers is a changed key, though the entry of the address the name resolved to
    lists it (a recycled IP; another fleet host behind a wrong DNS record)."""

    def entries(srv: SimulatedHost) -> list[str]:
        return [
            known_hosts_entry(srv.address, srv.port, srv.host_key),
            known_hosts_entry("localhost", srv.port, generate_key()),
        ]

    for policy in (HostKeyPolicy.STRICT, HostKeyPolicy.ACCEPT_NEW):
        error = failure(_by_name(client, entries, policy))
        assert error.status is HostStatus.HOST_KEY_CHANGED


def test_a_key_listed_only_for_the_address_leaves_the_name_unknown(client: Client) -> None:
    def entries(srv: SimulatedHost) -> list[str]:
        return [known_hosts_entry(srv.address, srv.port, srv.host_key)]

    error = failure(_by_name(client, entries, HostKeyPolicy.STRICT))
    assert error.status is HostStatus.HOST_KEY_UNKNOWN

    def with_name(srv: SimulatedHost) -> list[str]:
        return [*entries(srv), known_hosts_entry("localhost", srv.port, srv.host_key)]

    assert run(_by_name(client, with_name, HostKeyPolicy.STRICT)).exit_status == 0


def test_accept_new_learns_the_key_privately_and_strict_trusts_it_afterwards(
    client: Client,
) -> None:
    learnt = client.tmp / "state" / "known_hosts"

    async def scenario() -> None:
        async with SimulatedHost(echo, authorized_keys=[client.key]) as srv:
            first = SshTransport(client.settings([], HostKeyPolicy.ACCEPT_NEW))
            async with await first.open(client.host(srv.port)):
                pass
            assert srv.known_hosts_entry() in learnt.read_text()
            strict = SshTransport(client.settings([], known_hosts=(learnt,)))
            async with await strict.open(client.host(srv.port)) as session:
                assert (await session.run("x", timeout=5)).exit_status == 0

    run(scenario())
    assert stat.S_IMODE(learnt.stat().st_mode) == 0o600
    assert stat.S_IMODE(learnt.parent.stat().st_mode) == 0o700


def test_insecure_mode_connects_without_any_known_host(client: Client) -> None:
    settings = client.settings([], HostKeyPolicy.INSECURE)
    assert SshTransport(settings).verifies_host_keys is False
    assert run(_exec(client, lambda srv: settings)).exit_status == 0


def test_wrong_key_or_wrong_user_is_auth_failed(client: Client) -> None:
    (client.tmp / "other").mkdir()
    stranger = Client.create(client.tmp / "other")  # a key the server does not authorise
    error = failure(
        _exec(stranger, lambda srv: client.settings([srv.known_hosts_entry()]), authorized=client)
    )
    assert error.status is HostStatus.AUTH_FAILED
    error = failure(
        _exec(client, lambda srv: client.settings([srv.known_hosts_entry()]), user="root")
    )
    assert error.status is HostStatus.AUTH_FAILED


def test_refused_port_is_unreachable(client: Client) -> None:
    import socket

    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        port = holder.getsockname()[1]
        error = failure(SshTransport(client.settings([])).open(client.host(port)))
    assert error.status is HostStatus.UNREACHABLE
    assert "connection refused" in error.message and str(port) in error.message


def test_server_that_never_sends_a_banner_times_out(client: Client) -> None:
    async def scenario() -> None:
        silent: list[asyncio.StreamWriter] = []
        server = await asyncio.start_server(
            lambda reader, writer: silent.append(writer), "127.0.0.1", 0
        )
        port = server.sockets[0].getsockname()[1]
        try:
            settings = client.settings([], connect_timeout=1.0)
            await SshTransport(settings).open(client.host(port))
        finally:
            for writer in silent:
                writer.close()
            server.close()
            await server.wait_closed()

    error = failure(scenario())
    assert error.status is HostStatus.TIMEOUT


def test_hanging_command_times_out(client: Client) -> None:
    error = failure(
        _exec(
            client,
            lambda srv: client.settings([srv.known_hosts_entry()]),
            behaviour=Behaviour.HANG,
            timeout=1.0,
        )
    )
    # the host was reached: a stalled listing is not an outage --allow-unreachable excuses
    assert error.status is HostStatus.COMMAND_FAILED
    assert "the listing did not finish within 1s (--command-timeout)" in error.message
    assert "and had sent nothing: the command hung" in error.message


def test_output_over_the_cap_is_truncated_and_flagged(client: Client) -> None:
    def big(command: str) -> tuple[int, str, str]:
        return 0, "x" * 300_000, ""

    result = run(
        _exec(
            client,
            lambda srv: client.settings([srv.known_hosts_entry()], max_output_bytes=100_000),
            responder=big,
        )
    )
    assert result.truncated is True and len(result.stdout) == 100_000


def test_disconnect_mid_output_is_a_failed_listing(client: Client) -> None:
    def listing(command: str) -> tuple[int, str, str]:
        return 0, "line\n" * 1000, ""

    error = failure(
        _exec(
            client,
            lambda srv: client.settings([srv.known_hosts_entry()]),
            behaviour=Behaviour.DISCONNECT_MID_OUTPUT,
            responder=listing,
        )
    )
    # lost after the listing started: the host was reached, so not "connection_lost"
    assert error.status is HostStatus.COMMAND_FAILED
    assert "connection lost while the listing ran" in error.message


def test_slow_dripping_output_is_read_completely(client: Client) -> None:
    def listing(command: str) -> tuple[int, str, str]:
        return 0, "".join(f"line {i}\n" for i in range(30)), ""

    result = run(
        _exec(
            client,
            lambda srv: client.settings([srv.known_hosts_entry()]),
            behaviour=Behaviour.DRIP,
            responder=listing,
        )
    )
    assert result.stdout.count("\n") == 30


def test_failures_and_successes_leave_no_file_descriptor_open(client: Client) -> None:
    run(_exec(client, lambda srv: client.settings([srv.known_hosts_entry()])))  # warm up
    before = open_fds()
    for _ in range(3):
        run(_exec(client, lambda srv: client.settings([srv.known_hosts_entry()])))
        failure(_exec(client, lambda srv: client.settings([])))
        failure(
            _exec(
                client,
                lambda srv: client.settings([srv.known_hosts_entry()]),
                behaviour=Behaviour.HANG,
                timeout=0.5,
            )
        )
    assert open_fds() == before


async def _negotiated_cipher(client: Client, config: Path | None = None) -> str:
    async with SimulatedHost(echo, authorized_keys=[client.key]) as srv:
        overrides = {"use_ssh_config": True, "ssh_config": config} if config else {}
        transport = SshTransport(
            client.settings([srv.known_hosts_entry()], HostKeyPolicy.STRICT, **overrides)
        )
        session = await transport.open(client.host(srv.port))
        async with session:
            connection = session._connection  # type: ignore[attr-defined]
            return str(connection.get_extra_info("send_cipher"))


def test_ciphers_are_asyncssh_defaults_with_aes_gcm_first(client: Client) -> None:
    from asyncssh.encryption import get_default_encryption_algs

    from fleetaudit.transport.ssh_settings import CIPHERS

    assert {c.encode() for c in CIPHERS} == set(get_default_encryption_algs())
    assert CIPHERS[0] == "aes128-gcm@openssh.com"
    assert run(_negotiated_cipher(client)) == "aes128-gcm@openssh.com"


def test_ssh_config_that_sets_ciphers_keeps_its_choice(client: Client) -> None:
    config = client.tmp / "ssh_config"
    config.write_text("Host *\n  Ciphers chacha20-poly1305@openssh.com\n")
    cipher = run(_negotiated_cipher(client, config))
    assert cipher == "chacha20-poly1305@openssh.com"


def test_floor_benchmark_uses_the_same_ciphers_and_launch() -> None:
    import ast

    from fleetaudit.transport.ssh import LOGIN_SHELL_COMMAND
    from fleetaudit.transport.ssh_settings import CIPHERS

    floor = Path(__file__).parents[2] / "bench" / "fleet" / "floor.py"
    assigned = {
        node.targets[0].id: ast.literal_eval(node.value)
        for node in ast.parse(floor.read_text()).body  # module constants only
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name)
    }
    assert assigned["CIPHERS"] == list(CIPHERS)
    assert assigned["LOGIN_SHELL_COMMAND"] == LOGIN_SHELL_COMMAND
