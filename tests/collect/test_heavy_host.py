"""One host with a huge listing must not cost the others their command timeout.

Judging a 100,000-socket listing takes seconds. Done on the event loop, it stopped every
other host's reply from being read while their timeouts ran on, so a host that had answered
in time was reported ``timeout`` (a hostile host can hide a neighbour's violations this
way). The transport below is a real implementation of fleetaudit's transport interface
over asyncio (not a stand-in for asyncssh): the quick host answers after 0.3 s, within its
1 s command timeout, exactly as the SSH session enforces it.
"""

from __future__ import annotations

import asyncio
from importlib import resources
from pathlib import Path

import pytest

from fleetaudit.auditor import Auditor
from fleetaudit.config import AuditConfig
from fleetaudit.errors import TransportError
from fleetaudit.inventory.model import Host
from fleetaudit.lab.replies import RecordedHost
from fleetaudit.model import HostStatus, Tool
from fleetaudit.policy import load_default_policy
from fleetaudit.transport import CommandResult, Session, Transport

DEMO = Path(str(resources.files("fleetaudit").joinpath("data", "demo", "web1.ss.txt")))
HEAVY_SOCKETS = 100_000


def _heavy_listing() -> str:
    """``ss -tuanpe`` of a busy proxy: its listeners, then 100,000 established connections."""
    lines = DEMO.read_text().splitlines()
    connections = (
        f"tcp ESTAB 0 0 10.20.1.10:443 10.30.{i // 250 % 250}.{i % 250 + 1}:{1024 + i % 60000} "
        f'users:(("nginx",pid=812,fd={i % 1000 + 10}))'
        for i in range(HEAVY_SOCKETS)
    )
    return "\n".join([*lines, *connections]) + "\n"


class _Session(Session):
    def __init__(self, answer: str, delay: float) -> None:
        self._answer, self._delay = answer, delay

    async def run(self, command: str, *, timeout: float) -> CommandResult:
        try:
            async with asyncio.timeout(timeout):
                await asyncio.sleep(self._delay)
        except TimeoutError:
            raise TransportError(HostStatus.TIMEOUT, "command timed out") from None
        status, stdout, stderr = RecordedHost(Tool.SS, self._answer, login_uid=0).reply(command)
        return CommandResult(command, status, stdout, stderr)

    async def close(self) -> None:
        pass


class _Transport(Transport):
    def __init__(self) -> None:
        self._heavy, self._quick = _heavy_listing(), DEMO.read_text()

    async def open(self, host: Host) -> Session:
        if host.name == "heavy":
            return _Session(self._heavy, 0.0)
        return _Session(self._quick, 0.3)


@pytest.mark.timeout(120)
def test_a_huge_listing_does_not_time_out_a_host_that_answered_in_time() -> None:
    hosts = [Host(name="heavy", address="heavy"), Host(name="quick", address="quick")]
    auditor = Auditor(AuditConfig(command_timeout=1.0), transport=_Transport())
    result = auditor.run(hosts, load_default_policy())
    by_host = {s.host: s for s in result.snapshots}
    assert by_host["quick"].status is HostStatus.OK, by_host["quick"].error
    assert by_host["heavy"].status is HostStatus.OK
    assert len(by_host["heavy"].sockets) > HEAVY_SOCKETS
