"""One run, many broken hosts: each gets the right status and message, the healthy host is
audited normally, and nothing (connection, task, file descriptor) is left open afterwards.

Every host is a real asyncssh server on loopback speaking real SSH; what differs is what it
answers to the collection script.
"""

from __future__ import annotations

import asyncio
import os
import random
import socket
from collections.abc import Callable
from contextlib import AsyncExitStack
from importlib import resources
from pathlib import Path

from fleetaudit.auditor import Auditor
from fleetaudit.config import AuditConfig
from fleetaudit.inventory.model import Host
from fleetaudit.lab.keys import generate_key, write_private_key
from fleetaudit.lab.replies import RecordedHost
from fleetaudit.lab.sshserver import Behaviour, SimulatedHost
from fleetaudit.model.enums import Tool
from fleetaudit.model.run import RunResult
from fleetaudit.policy import load_default_policy

DEMO = resources.files("fleetaudit").joinpath("data", "demo")
LISTING = DEMO.joinpath("web1.ss.txt").read_text()
PROC = (Path(__file__).parents[1] / "fixtures" / "captures" / "proc-net.txt").read_text()
Responder = Callable[[str], tuple[int, str, str]]
HEADER = "@@fleetaudit 1\n@@uid 0\n@@tool ss\n@@privilege root\n@@output\n"


def garbage(command: str) -> tuple[int, str, str]:
    noise = bytes(random.Random(7).randrange(256) for _ in range(20_000))
    return 0, HEADER + noise.decode("latin-1"), ""


def huge(command: str) -> tuple[int, str, str]:
    return 0, HEADER + LISTING + "x" * 100_000_000, ""


def failing(command: str) -> tuple[int, str, str]:
    return 1, HEADER, "ss: Cannot open netlink socket: Permission denied\n"


HOSTS: dict[str, tuple[Responder, Behaviour]] = {
    "healthy": (RecordedHost(Tool.SS, LISTING, login_uid=0).reply, Behaviour.NORMAL),
    "garbage": (garbage, Behaviour.NORMAL),
    "huge": (huge, Behaviour.NORMAL),
    "failing": (failing, Behaviour.NORMAL),
    "hanging": (RecordedHost(Tool.SS, LISTING).reply, Behaviour.HANG),
    "dropping": (RecordedHost(Tool.SS, LISTING * 50).reply, Behaviour.DISCONNECT_MID_OUTPUT),
    "dripping": (RecordedHost(Tool.SS, LISTING, login_uid=0).reply, Behaviour.DRIP),
    "no-tools": (RecordedHost(Tool.PROC, PROC, login_uid=0).reply, Behaviour.NORMAL),
    "no-sudo": (RecordedHost(Tool.SS, LISTING, sudo_allowed=False).reply, Behaviour.NORMAL),
}


async def audit(tmp: Path) -> RunResult:
    key = generate_key()
    key_path = write_private_key(key, tmp / "id")
    known = tmp / "known_hosts"
    async with AsyncExitStack() as stack:
        hosts = []
        for name, (responder, behaviour) in HOSTS.items():
            server = await stack.enter_async_context(
                SimulatedHost(responder, authorized_keys=[key], behaviour=behaviour)
            )
            with known.open("a") as stream:
                stream.write(server.known_hosts_entry() + "\n")
            hosts.append(Host(name=name, address=server.address, port=server.port,
                              user="audit", key=str(key_path), become=True))  # fmt: skip
        with socket.socket() as closed:
            closed.bind(("127.0.0.1", 0))
            hosts.append(Host(name="refused", address="127.0.0.1", port=closed.getsockname()[1]))
            config = AuditConfig(known_hosts=(known,), connect_timeout=5, login_timeout=5,
                                 command_timeout=3, use_ssh_config=False)  # fmt: skip
            return await Auditor(config).run_async(hosts, load_default_policy())


def test_every_failure_gets_its_status_and_the_rest_of_the_fleet_is_audited(tmp_path: Path) -> None:
    asyncio.run(audit(tmp_path))  # warm up imports and caches before counting descriptors
    before = len(os.listdir("/proc/self/fd"))
    result = asyncio.run(
        audit(tmp_path / "second" if (tmp_path / "second").mkdir() is None else tmp_path)
    )
    after = len(os.listdir("/proc/self/fd"))
    hosts = {s.host: s for s in result.snapshots}

    assert hosts["healthy"].status.value == "ok" and hosts["healthy"].listeners
    assert hosts["dripping"].status.value == "ok"
    assert len(hosts["dripping"].sockets) == len(hosts["healthy"].sockets)
    assert (hosts["no-tools"].status.value, hosts["no-tools"].tool) == ("ok", Tool.PROC)
    assert not any(s.owner_known for s in hosts["no-tools"].sockets)
    assert hosts["no-sudo"].privilege.value == "unprivileged"  # type: ignore[union-attr]
    assert "sudo -n refused" in (hosts["no-sudo"].privilege_note or "")

    expected = {
        "garbage": ("parse_error", "no line could be read"),
        "huge": ("command_failed", "output exceeded the cap"),
        "failing": ("command_failed", "Cannot open netlink socket"),
        "hanging": ("command_failed", "did not finish within 3s"),
        "dropping": ("command_failed", "connection lost while the listing ran"),
        "refused": ("unreachable", "connection refused"),
    }
    for name, (status, text) in expected.items():
        snapshot = hosts[name]
        assert snapshot.status.value == status, (name, snapshot.error)
        assert text in (snapshot.error or ""), (name, snapshot.error)
    assert after == before, "every connection and descriptor was released"
