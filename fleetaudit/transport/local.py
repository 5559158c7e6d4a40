"""The local transport: ``transport: local`` hosts run the script here, without SSH."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal

from fleetaudit.errors import TransportError
from fleetaudit.inventory.model import Host
from fleetaudit.model.enums import HostStatus
from fleetaudit.transport.interface import CommandResult, Session, Transport
from fleetaudit.transport.streams import read_capped, read_tail

_SHELL = "/bin/sh"
_STDERR_CAP = 64 * 1024
_CHUNK = 256 * 1024
_REAP_TIMEOUT_S = 5.0


class LocalTransport(Transport):
    """Runs commands through ``/bin/sh -c`` on this machine."""

    def __init__(self, *, max_output_bytes: int = 64 * 1024 * 1024) -> None:
        self._cap = max_output_bytes

    async def open(self, host: Host) -> Session:
        return _LocalSession(self._cap)


class _LocalSession(Session):
    def __init__(self, cap: int) -> None:
        self._cap = cap

    async def run(self, command: str, *, timeout: float) -> CommandResult:
        try:
            process = await asyncio.create_subprocess_exec(
                _SHELL,
                "-c",
                command,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                start_new_session=True,  # its own process group, so a timeout kills it all
            )
        except OSError as exc:
            raise TransportError(
                HostStatus.COMMAND_FAILED, f"cannot start {_SHELL}: {exc.strerror}"
            ) from None
        try:
            async with asyncio.timeout(timeout):
                return await _collect(process, command, self._cap)
        except TimeoutError:
            # this machine is always reached: a stalled listing is a failure, not an outage
            raise TransportError(
                HostStatus.COMMAND_FAILED,
                f"the local listing did not finish within {timeout:g}s (--command-timeout)",
            ) from None
        finally:
            if process.returncode is None:
                _kill_group(process.pid)
            await _reap(process)

    async def close(self) -> None:
        """Nothing to release: each command's process is reaped by :meth:`run`."""


async def _collect(process: asyncio.subprocess.Process, command: str, cap: int) -> CommandResult:
    assert process.stdout is not None and process.stderr is not None
    # drained to its end: a child blocked on a full stderr pipe would never finish stdout
    stderr_task = asyncio.ensure_future(read_tail(process.stderr, _STDERR_CAP))
    try:
        stdout, truncated = await read_capped(process.stdout, cap)
        if truncated:
            # Stop the writer now: it would block on the full pipe and stderr never end.
            _kill_group(process.pid)
        stderr, _ = await stderr_task
    finally:
        stderr_task.cancel()
    returncode = await process.wait()
    killed = returncode < 0 and not truncated
    return CommandResult(
        command=command,
        exit_status=None if truncated or killed else returncode,
        stdout=stdout.decode("utf-8", errors="replace"),
        stderr=stderr.decode("utf-8", errors="replace"),
        truncated=truncated,
        exit_signal=_signal_name(-returncode) if killed else None,
    )


def _signal_name(number: int) -> str:
    """``KILL`` for 9: the name SSH's exit-signal gives, so both transports read alike."""
    try:
        return signal.Signals(number).name.removeprefix("SIG")
    except ValueError:
        return str(number)


async def _reap(process: asyncio.subprocess.Process) -> None:
    """Wait for the (killed) child and read its pipes to their end, so that asyncio closes
    them now rather than leaking them until garbage collection."""
    async with asyncio.timeout(_REAP_TIMEOUT_S):
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                while await stream.read(_CHUNK):
                    pass
        await process.wait()


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)
