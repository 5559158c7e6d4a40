"""Host addresses: every IP literal (``::1`` included), bracketed IPv6, the guards that stay,
and a real SSH login to 127.0.0.1 and to ::1 from hosts an inventory file resolved."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from fleetaudit.errors import InventoryError
from fleetaudit.inventory import TransportKind, load_inventory
from fleetaudit.inventory.model import Host
from fleetaudit.lab.sshserver import SimulatedHost
from fleetaudit.transport import SshTransport
from tests.transport.helpers import Client


def resolve(tmp_path: Path, text: str, name: str = "inventory.yaml") -> tuple[Host, ...]:
    path = tmp_path / name
    path.write_text(text)
    return load_inventory(path).hosts


def refused(tmp_path: Path, text: str, name: str = "inventory.yaml") -> InventoryError:
    with pytest.raises(InventoryError) as caught:
        resolve(tmp_path, text, name)
    return caught.value


@pytest.mark.parametrize(
    ("written", "address"),
    [
        ("127.0.0.1", "127.0.0.1"),
        ("::1", "::1"),
        ("::", "::"),
        ("::ffff:127.0.0.1", "::ffff:127.0.0.1"),
        ("2001:db8::1", "2001:db8::1"),
        ("0:0:0:0:0:0:0:1", "0:0:0:0:0:0:0:1"),
        ("fe80::1%eth0", "fe80::1%eth0"),
        ("[::1]", "::1"),
        ("[2001:db8::1]", "2001:db8::1"),
        ("db1.example.com", "db1.example.com"),
    ],
)
def test_every_ip_literal_is_an_address(tmp_path: Path, written: str, address: str) -> None:
    [host] = resolve(tmp_path, f'hosts:\n  h1: {{address: "{written}"}}\n')
    assert host.address == address


@pytest.mark.parametrize(
    ("written", "fragment"),
    [
        ("[web1]", "brackets may only enclose an IPv6 address"),
        ("[127.0.0.1]", "brackets may only enclose an IPv6 address"),
        ("[::1", "not a host name or IP address"),
        ("-::1", "not a host name or IP address"),
        ("-oProxyCommand=x", "not a host name or IP address"),
        (":: 1", "not a host name or IP address"),
        ("::1;id", "not a host name or IP address"),
        ("::1\\n", "not a host name or IP address"),
        ("fe80::1%;reboot", "not a host name or IP address"),
        ("fe80::1%$(id)", "not a host name or IP address"),
        ("[fe80::1%`id`]", "brackets may only enclose an IPv6 address"),
    ],
)
def test_guards_stay(tmp_path: Path, written: str, fragment: str) -> None:
    problem = refused(tmp_path, f'hosts:\n  h1:\n    address: "{written}"\n')
    assert (problem.path, problem.line, problem.key) == (
        str(tmp_path / "inventory.yaml"),
        3,
        "hosts.h1.address",
    )
    assert fragment in str(problem)


@pytest.mark.parametrize("written", ["localhost", "127.0.0.1", "::1", "[::1]", "0:0::1"])
def test_local_transport_takes_every_spelling_of_this_machine(tmp_path: Path, written: str) -> None:
    [host] = resolve(tmp_path, f'hosts:\n  me: {{transport: local, address: "{written}"}}\n')
    assert host.transport is TransportKind.LOCAL


def test_local_transport_still_refuses_other_machines(tmp_path: Path) -> None:
    problem = refused(tmp_path, 'hosts:\n  me: {transport: local, address: "::2"}\n')
    assert problem.line == 2 and "must be localhost, 127.0.0.1 or ::1" in str(problem)


def test_ansible_inventories_take_ipv6_literals_too(tmp_path: Path) -> None:
    text = "[web]\nweb1 ansible_host=::1\nweb2 ansible_host=[::1] ansible_connection=local\n"
    web1, web2 = resolve(tmp_path, text, "hosts.ini")
    assert (web1.address, web2.address, web2.transport) == ("::1", "::1", TransportKind.LOCAL)
    problem = refused(tmp_path, "[web]\nweb1 ansible_host=[web1]\n", "hosts.ini")
    assert problem.line == 2 and "brackets" in str(problem)


def echo(command: str) -> tuple[int, str, str]:
    return 0, f"ran: {command}\n", ""


def _inventory(client: Client, path: Path, v4_port: int, v6_port: int) -> tuple[Host, ...]:
    """The hosts of an inventory file with one host on 127.0.0.1 and two on ::1."""
    path.write_text(
        f"defaults: {{user: audit, key: {client.key_path}}}\n"
        "hosts:\n"
        f"  four: {{address: 127.0.0.1, port: {v4_port}}}\n"
        f'  six: {{address: "::1", port: {v6_port}}}\n'
        f'  bracketed: {{address: "[::1]", port: {v6_port}}}\n'
    )
    return load_inventory(path).hosts


async def _login_to_each(client: Client, inventory: Path) -> dict[str, str]:
    """Start one SSH server on 127.0.0.1 and one on ::1, point an inventory at them and run
    a command on every host it resolves, through the real SSH transport."""
    async with (
        SimulatedHost(echo, authorized_keys=[client.key], address="127.0.0.1") as v4,
        SimulatedHost(echo, authorized_keys=[client.key], address="::1") as v6,
    ):
        hosts = await asyncio.to_thread(_inventory, client, inventory, v4.port, v6.port)
        transport = SshTransport(client.settings([v4.known_hosts_entry(), v6.known_hosts_entry()]))
        done: dict[str, str] = {}
        for host in hosts:
            async with await transport.open(host) as session:
                done[host.name] = (await session.run("ss -tuanpe", timeout=10)).stdout
        await transport.aclose()
        return done


def test_a_run_reaches_127_0_0_1_and_ipv6_loopback(tmp_path: Path) -> None:
    client = Client.create(tmp_path)
    outputs = asyncio.run(asyncio.wait_for(_login_to_each(client, tmp_path / "inv.yaml"), 60))
    assert outputs == dict.fromkeys(("four", "six", "bracketed"), "ran: ss -tuanpe\n")


@pytest.mark.parametrize("jump", ["a@b:99999", "b:0", "[::1]:70000"])
def test_a_jump_host_port_out_of_range_is_refused(tmp_path: Path, jump: str) -> None:
    error = refused(tmp_path, f"hosts:\n  h1: {{address: 127.0.0.1, jump: '{jump}'}}\n")
    assert "is outside 1-65535" in str(error) and ":2:" in str(error)


@pytest.mark.parametrize(
    "jump",
    [
        "a@b:22", "bastion", "[::1]", "[::1]:2222", "ssh://root@b:2200", "ssh://b/",
        # QA, forms ssh accepts that the inventory refused
        "u@h:", "u@h:+22", "ssh://us%65r@h", "ssh://u%40x;fp=abc@h:2200", "[::1]:",
    ],
)  # fmt: skip
def test_a_jump_host_with_a_valid_port_or_none_loads(tmp_path: Path, jump: str) -> None:
    [host] = resolve(tmp_path, f"hosts:\n  h1: {{address: 127.0.0.1, jump: '{jump}'}}\n")
    assert host.jump == jump


@pytest.mark.parametrize(
    "jump", ["ssh://u%zz@h", "ssh://u@h?x", "ssh://u@h//", " h", "::1", "h:\u0662\u0662"]
)
def test_a_jump_host_ssh_refuses_is_refused(tmp_path: Path, jump: str) -> None:
    """QA: forms `ssh -G` refuses, which the transport took as a host `h?x`, `h/` or a
    user `u%zz`."""
    error = refused(tmp_path, f"hosts:\n  h1: {{address: 127.0.0.1, jump: '{jump}'}}\n")
    assert ":2:" in str(error) and "jump" in str(error), error
