"""A channel closed without an exit status: the listing may be cut, so it is not judged.

OpenSSH always ends a session with exit-status or exit-signal; a server (or something in
between) that closes the channel without either may have stopped the listing anywhere,
even at a line boundary, where the cut cannot be seen in the text. The server here is a
real asyncssh server on loopback that sends a whole listing minus its last line and then
closes the channel.
"""

from __future__ import annotations

import asyncio
from importlib import resources
from pathlib import Path

import asyncssh
import pytest

from fleetaudit.collect.runner import CollectSettings, HostCapture, collect_host
from fleetaudit.lab.keys import generate_key, known_hosts_entry, public_key_line
from fleetaudit.model.enums import HostStatus
from fleetaudit.transport import SshTransport
from fleetaudit.transport.ssh import LOGIN_SHELL_COMMAND
from tests.transport.helpers import Client

pytestmark = pytest.mark.timeout(60)

LISTING = resources.files("fleetaudit").joinpath("data", "demo", "web1.ss.txt").read_text()
HEADER = "@@fleetaudit 1\n@@uid 0\n@@tool ss\n@@privilege root\n@@output\n"
CUT = HEADER + "".join(LISTING.splitlines(keepends=True)[:-1])
"""A listing minus its last line: every line whole, so the text alone looks complete."""


async def _serve_cut(process: asyncssh.SSHServerProcess[str]) -> None:
    if process.command == LOGIN_SHELL_COMMAND:
        await process.stdin.read()
    process.stdout.write(CUT)
    await process.stdout.drain()
    process.close()  # the channel closes: no exit-status, no exit-signal


async def _collect(client: Client, serve: object) -> HostCapture:
    host_key = generate_key()
    server = await asyncssh.create_server(
        asyncssh.SSHServer, "127.0.0.1", 0, server_host_keys=[host_key],
        authorized_client_keys=asyncssh.import_authorized_keys(public_key_line(client.key)),
        process_factory=serve,
    )  # fmt: skip
    port = server.sockets[0].getsockname()[1]
    try:
        settings = client.settings([known_hosts_entry("127.0.0.1", port, host_key)])
        collect = CollectSettings(command_timeout=10, host_deadline=30)
        async with asyncio.timeout(40):
            return await collect_host(client.host(port), SshTransport(settings), collect)
    finally:
        server.close()
        await server.wait_closed()


def test_a_listing_whose_channel_closed_without_an_exit_status_is_not_judged(
    tmp_path: Path,
) -> None:
    capture = asyncio.run(_collect(Client.create(tmp_path), _serve_cut))
    assert capture.status is HostStatus.COMMAND_FAILED, capture.error
    assert "the listing ended without an exit status: it may be cut" in str(capture.error)
    assert capture.reply is None


def test_the_same_listing_with_its_exit_status_is_judged(tmp_path: Path) -> None:
    """The control: the server above, ending the session as OpenSSH does."""

    async def serve_whole(process: asyncssh.SSHServerProcess[str]) -> None:
        if process.command == LOGIN_SHELL_COMMAND:
            await process.stdin.read()
        process.stdout.write(CUT)
        process.exit(0)

    capture = asyncio.run(_collect(Client.create(tmp_path), serve_whole))
    assert capture.status is HostStatus.OK, capture.error
