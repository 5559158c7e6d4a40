"""The local transport (a real /bin/sh) and the replay transport."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import pytest

from fleetaudit.errors import TransportError
from fleetaudit.inventory.model import Host, TransportKind
from fleetaudit.model.enums import HostStatus
from fleetaudit.transport import CommandResult, LocalTransport, ReplayTransport, Transport

LOCALHOST = Host(name="localhost", address="localhost", transport=TransportKind.LOCAL)


def run(
    transport: Transport, command: str, timeout: float = 10, target: Host = LOCALHOST
) -> CommandResult:
    async def go() -> CommandResult:
        async with await transport.open(target) as session:
            return await session.run(command, timeout=timeout)

    return asyncio.run(go())


def test_local_command_output_and_status() -> None:
    result = run(LocalTransport(), "echo out; echo err >&2; exit 4")
    assert (result.exit_status, result.stdout, result.stderr, result.truncated) == (
        4,
        "out\n",
        "err\n",
        False,
    )


def test_local_timeout_kills_the_whole_process_group(tmp_path: Path) -> None:
    """A command still running at --command-timeout is killed with every process it
    started: a background child left running would outlive the run (and hold its pipe)."""
    child_pid_file = tmp_path / "child.pid"
    command = f"sleep 30 & echo $! > {child_pid_file}; sleep 30"
    with pytest.raises(TransportError) as caught:
        run(LocalTransport(), command, timeout=0.5)
    # this machine was reached: a stalled listing is a failure --allow-unreachable refuses
    assert caught.value.status is HostStatus.COMMAND_FAILED
    assert "did not finish within 0.5s (--command-timeout)" in caught.value.message
    child = int(child_pid_file.read_text())
    try:
        assert _gone_or_zombie(child), "the background child outlived the timeout"
    finally:
        if not _gone_or_zombie(child):
            os.kill(child, 9)  # the one process this test started and recorded


def _gone_or_zombie(pid: int) -> bool:
    """Whether the process has ended (a zombie waits only for init to reap it); checked
    for a few seconds at most, since SIGKILL reaches it a moment after the kill call."""
    for _ in range(50):
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            return True
        if state in ("Z", "X"):
            return True
        time.sleep(0.05)
    return False


def test_local_megabytes_on_stderr_are_drained_and_the_last_line_kept() -> None:
    # stderr read up to 64 KiB and then left undrained: the child blocked on the full
    # pipe and its stdout never ended (a timeout instead of the command's own result)
    command = "yes noise | head -c 3000000 >&2; echo last words >&2; echo out; exit 3"
    result = run(LocalTransport(), command, timeout=20)
    assert (result.exit_status, result.stdout) == (3, "out\n")
    assert result.stderr.endswith("noise\nlast words\n")
    assert len(result.stderr) <= 64 * 1024


def test_local_command_killed_by_a_signal_names_it() -> None:
    result = run(LocalTransport(), "echo partial; kill -KILL $$")
    assert (result.exit_status, result.exit_signal, result.stdout) == (None, "KILL", "partial\n")


def test_local_output_cap() -> None:
    result = run(LocalTransport(max_output_bytes=10_000), "head -c 1000000 /dev/zero")
    assert result.truncated is True and len(result.stdout) == 10_000
    assert result.exit_status is None


def test_local_invalid_utf8_is_replaced_not_fatal() -> None:
    result = run(LocalTransport(), "printf 'a\\377b'")
    assert result.stdout == "a\ufffdb"


def test_replay_answers_known_hosts_and_refuses_others() -> None:
    replay = ReplayTransport({"localhost": lambda command: (0, f"got {command}", "")})
    assert run(replay, "x").stdout == "got x"
    with pytest.raises(TransportError) as caught:
        run(replay, "x", target=Host(name="other", address="192.0.2.1"))
    assert caught.value.status is HostStatus.UNREACHABLE


def test_no_child_process_is_left_behind() -> None:
    before = set(os.listdir("/proc"))
    with pytest.raises(TransportError):
        run(LocalTransport(), "sleep 20", timeout=0.3)
    time.sleep(0.2)
    leftovers = [
        pid for pid in set(os.listdir("/proc")) - before if pid.isdigit() and _is_sleep(pid)
    ]
    assert leftovers == []


def _is_sleep(pid: str) -> bool:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as stream:
            return stream.read().startswith(b"sleep\x0020")
    except OSError:
        return False


def test_a_local_host_has_no_host_key_to_check() -> None:
    """`transport: local` makes no SSH connection: its snapshot says so (None), and the
    coverage rule does not call it "audited without host-key verification"."""
    from fleetaudit.auditor import Auditor
    from fleetaudit.policy import load_policy

    policy = load_policy(Path(__file__).parents[2] / "policies" / "default.yaml")
    result = Auditor().run([LOCALHOST], policy)
    (snapshot,) = result.snapshots
    assert (snapshot.status, snapshot.host_key_checked) == (HostStatus.OK, None)
    assert not [f for f in result.findings if "host-key" in f.message]
