"""The built-in demo fleet: simulated SSH hosts on loopback, audited through the real path.

``fleetaudit demo`` must show what a real run shows without any host to point at, and it
must exercise the same code a real run does: asyncssh connections with host-key checking
against a known_hosts file, public-key login, the constant collection script, the parsers,
the policy and the report. Only the far end is simulated: each host is an in-process
asyncssh server with its own host key that answers the script from a recorded listing.
"""

from __future__ import annotations

import asyncio
import socket
import tempfile
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack, asynccontextmanager, contextmanager
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import asyncssh

from fleetaudit.auditor import Auditor
from fleetaudit.config import AuditConfig
from fleetaudit.inventory.model import Host
from fleetaudit.lab.keys import generate_key, write_private_key
from fleetaudit.lab.replies import RecordedHost
from fleetaudit.lab.sshserver import SimulatedHost
from fleetaudit.model.enums import Tool
from fleetaudit.model.run import RunResult
from fleetaudit.policy import Policy

DEMO_USER = "audit"


@dataclass(frozen=True, slots=True)
class DemoHost:
    """One simulated machine: its inventory entry and what it answers."""

    name: str
    address: str
    recording: str
    tool: Tool
    groups: tuple[str, ...]
    sudo_allowed: bool = True


DEMO_FLEET: tuple[DemoHost, ...] = (
    DemoHost("web1", "127.0.0.11", "web1.ss.txt", Tool.SS, ("web",)),
    DemoHost("db1", "127.0.0.12", "db1.ss.txt", Tool.SS, ("db",)),
    DemoHost("app1", "127.0.0.13", "app1.ss.txt", Tool.SS, ("app",)),
    DemoHost("legacy1", "127.0.0.14", "legacy1.netstat.txt", Tool.NETSTAT, ("app",)),
    DemoHost("cache1", "127.0.0.15", "cache1.ss.txt", Tool.SS, ("cache",), sudo_allowed=False),
)
LINUX_EPHEMERAL_PORTS = (32768, 60999)
"""What every demo host says its ``ip_local_port_range`` is: Linux's default."""
UNREACHABLE_HOST = "down1"
"""A host in the demo inventory whose SSH port refuses connections."""


def run_demo(policy: Policy) -> RunResult:
    """Start the simulated fleet, audit it with ``policy`` and stop it again."""
    return asyncio.run(_run_demo(policy))


async def _run_demo(policy: Policy) -> RunResult:
    with tempfile.TemporaryDirectory(prefix="fleetaudit-demo-") as tmp, _refused_port() as down:
        client_key = generate_key()
        key_path = write_private_key(client_key, Path(tmp) / "id_ed25519")
        async with _fleet(client_key) as servers:
            known_hosts = Path(tmp) / "known_hosts"
            known_hosts.write_text("".join(s.known_hosts_entry() + "\n" for s in servers))
            hosts = [
                _inventory_entry(spec, srv, key_path)
                for spec, srv in zip(DEMO_FLEET, servers, strict=True)
            ]
            hosts.append(
                Host(name=UNREACHABLE_HOST, address=down[0], port=down[1], groups=("web",))
            )
            config = AuditConfig(
                known_hosts=(known_hosts,),
                accept_new_file=Path(tmp) / "accepted_hosts",
                connect_timeout=5.0,
                login_timeout=5.0,
                command_timeout=10.0,
                use_ssh_config=False,
            )
            return await Auditor(config).run_async(hosts, policy)


@asynccontextmanager
async def _fleet(client_key: asyncssh.SSHKey) -> AsyncIterator[list[SimulatedHost]]:
    async with AsyncExitStack() as stack:
        servers = []
        for spec in DEMO_FLEET:
            server = SimulatedHost(
                _recorded(spec).reply,
                authorized_keys=[client_key],
                user=DEMO_USER,
                address=_loopback(spec.address),
            )
            servers.append(await stack.enter_async_context(server))
        yield servers


def _recorded(spec: DemoHost) -> RecordedHost:
    listing = resources.files("fleetaudit").joinpath("data", "demo", spec.recording).read_text()
    return RecordedHost(
        spec.tool, listing, sudo_allowed=spec.sudo_allowed, ephemeral=LINUX_EPHEMERAL_PORTS
    )


def _inventory_entry(spec: DemoHost, server: SimulatedHost, key: Path) -> Host:
    return Host(
        name=spec.name,
        address=server.address,
        port=server.port,
        user=DEMO_USER,
        key=str(key),
        become=True,
        groups=spec.groups,
    )


def _loopback(address: str) -> str:
    """``address`` if this machine can bind it (all of 127/8 on Linux), else 127.0.0.1."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.bind((address, 0))
    except OSError:
        return "127.0.0.1"
    return address


@contextmanager
def _refused_port() -> Iterator[tuple[str, int]]:
    """A loopback port that refuses connections for as long as the context lasts.

    The socket is bound but never listens, so the kernel answers SYNs with a reset and no
    other process can take the port meanwhile.
    """
    address = _loopback("127.0.0.16")
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as holder:
        holder.bind((address, 0))
        yield address, holder.getsockname()[1]
