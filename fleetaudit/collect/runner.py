"""Fan out over the fleet: bounded concurrency, a deadline per host, results as they come.

Memory stays bounded by the concurrency, not by the fleet size: a fixed pool of workers
pulls hosts from an iterator, and each finished capture is handed to the caller at once
(the caller parses it and keeps only the compact snapshot).
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncGenerator, Callable, Hashable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from fleetaudit.collect.commands import collect_command
from fleetaudit.collect.reply import Reply, parse_reply
from fleetaudit.errors import TransportError
from fleetaudit.inventory.model import Host
from fleetaudit.model.enums import HostStatus
from fleetaudit.transport.interface import CommandResult, Session, Transport


@dataclass(frozen=True, slots=True)
class CollectSettings:
    """How hard to push the fleet and how long to wait for each host."""

    concurrency: int = 100
    command_timeout: float = 30.0
    host_deadline: float = 90.0
    """Upper bound for a whole host (connect, login, every sample); a safety net under the
    transport's own timeouts so that no host can stall the run."""
    samples: int = 1
    """How many times to list the sockets, over one connection."""
    interval: float = 0.0
    """Seconds between samples."""


@dataclass(frozen=True, slots=True)
class HostCapture:
    """One host's collection outcome: a reply from the script, or why there is none."""

    host: Host
    status: HostStatus
    started_at: datetime
    duration_s: float
    reply: Reply | None = None
    """The last sample (the one the report shows)."""
    earlier: tuple[Reply, ...] = ()
    """The samples before it, oldest first (``--samples``)."""
    error: str | None = None
    host_key_checked: bool | None = None
    """As :attr:`Transport.verifies_host_keys`: None when no SSH was involved."""
    server_software: str | None = None
    """As :attr:`Session.server_software`: the SSH server's software, None without SSH."""
    login_user: str | None = None
    """As :attr:`Session.login_user`: who the host was logged in as, None without SSH."""


TransportFor = Callable[[Host], Transport]


async def collect_fleet(
    hosts: Iterable[Host],
    transport_for: TransportFor,
    settings: CollectSettings,
) -> AsyncGenerator[HostCapture, None]:
    """Yield one HostCapture per host, in completion order."""
    pending = _Pending(hosts, transport_for)
    results: asyncio.Queue[HostCapture | None] = asyncio.Queue(maxsize=settings.concurrency)
    workers = [
        asyncio.create_task(_worker(pending, transport_for, settings, results))
        for _ in range(max(1, settings.concurrency))
    ]
    try:
        finished = 0
        while finished < len(workers):
            item = await results.get()
            if item is None:
                finished += 1
            else:
                yield item
    finally:
        for task in workers:
            task.cancel()
        await asyncio.gather(*workers, return_exceptions=True)


class _Pending:
    """The hosts still to collect, handed to the workers in inventory order, except that a
    host that would wait in its transport's admission (its jump host's tunnels all busy)
    is put aside while another can start at once: a worker waiting there holds one of
    ``--concurrency`` places, and with a busy bastion's hosts first, the hosts reached
    directly sat behind them while most places were idle (QA: 80 of 100)."""

    def __init__(self, hosts: Iterable[Host], transport_for: TransportFor) -> None:
        self._hosts = iter(hosts)
        self._aside: dict[tuple[Transport, Hashable], deque[Host]] = {}
        self._transport_for = transport_for

    def __iter__(self) -> Iterator[Host]:
        return self

    def __next__(self) -> Host:
        # Several workers take from one instance: safe, as nothing here awaits, and a
        # worker enters its host's admission before it next yields.
        for (transport, queue), waiting in self._aside.items():  # one entry per jump host
            if transport.queue_free(queue):
                return self._take((transport, queue), waiting)
        for host in self._hosts:  # each host is taken or put aside once
            transport = self._transport_for(host)
            queue = transport.queue_of(host)
            if queue is None or transport.queue_free(queue):
                return host
            self._aside.setdefault((transport, queue), deque()).append(host)
        if self._aside:  # none can start at once: wait in the oldest queue
            key, waiting = next(iter(self._aside.items()))
            return self._take(key, waiting)
        raise StopIteration

    def _take(self, key: tuple[Transport, Hashable], waiting: deque[Host]) -> Host:
        host = waiting.popleft()
        if not waiting:
            del self._aside[key]
        return host


async def _worker(
    pending: Iterator[Host],
    transport_for: TransportFor,
    settings: CollectSettings,
    results: asyncio.Queue[HostCapture | None],
) -> None:
    for host in pending:
        try:
            capture = await collect_host(host, transport_for(host), settings)
        except Exception as exc:  # a bug must cost one host, never stall the whole run
            capture = _failed(host, exc)
        await results.put(capture)
    await results.put(None)


def _failed(host: Host, exc: Exception) -> HostCapture:
    """The capture of a host whose collection hit an unexpected error (a fleetaudit bug):
    that host fails with the error's text; every other host is still audited."""
    return HostCapture(
        host=host,
        status=HostStatus.SSH_ERROR,
        started_at=datetime.now(UTC),
        duration_s=0.0,
        error=f"internal error: {type(exc).__name__}: {exc} (this is a bug; please report it)",
    )


async def collect_host(host: Host, transport: Transport, settings: CollectSettings) -> HostCapture:
    """Connect, run the collection script once, and read its header. Never raises for a
    host's own failure: every failure becomes the capture's status.

    The host's deadline and duration start once the transport admits it: waiting for a
    jump host's shared tunnels is waiting for other hosts. Counted, a host behind a busy
    or half-dead bastion ran out of time before it was ever tried, and passed for one
    that could not be reached (which --allow-unreachable excuses)."""
    checked = transport.verifies_host_keys
    progress = _Progress()

    def done(
        status: HostStatus,
        replies: Sequence[Reply] = (),
        error: str | None = None,
        session: Session | None = None,
    ) -> HostCapture:
        return HostCapture(
            host=host,
            status=status,
            started_at=progress.started_at,
            duration_s=round(time.monotonic() - progress.clock, 3),
            reply=replies[-1] if replies else None,
            earlier=tuple(replies[:-1]),
            error=error,
            host_key_checked=checked,
            server_software=session.server_software if session else None,
            login_user=session.login_user if session else None,
        )

    try:
        async with transport.admission(host):
            progress.start()
            async with asyncio.timeout(settings.host_deadline):
                replies, session = await _sample(host, transport, settings, progress)
        return done(HostStatus.OK, replies, session=session)
    except TransportError as exc:
        return done(exc.status, error=exc.message)
    except TimeoutError:
        status, message = _deadline_passed(settings.host_deadline, progress)
        return done(status, error=message)


@dataclass(slots=True)
class _Progress:
    """How far a host's collection got, for the host deadline's verdict, and since when."""

    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    clock: float = field(default_factory=time.monotonic)
    listing_started: bool = False
    """The host was reached and the first listing command was sent."""

    def start(self) -> None:
        """The host's own time starts (it was admitted by the transport)."""
        self.started_at, self.clock = datetime.now(UTC), time.monotonic()


def _deadline_passed(deadline: float, progress: _Progress) -> tuple[HostStatus, str]:
    """The status and message of a host the host deadline stopped. Before the listing
    started it may not have been reached (``timeout``, which --allow-unreachable excuses);
    after, it was reached and then stalled, which a compromised host could do on purpose
    to stay out of the audit: ``command_failed`` (see ``_NOT_REACHED``)."""
    if progress.listing_started:
        return HostStatus.COMMAND_FAILED, (
            f"the host was reached but the listing had not finished when the {deadline:g}s "
            "host deadline passed"
        )
    return HostStatus.TIMEOUT, f"host not done within {deadline:g}s deadline"


async def _sample(
    host: Host, transport: Transport, settings: CollectSettings, progress: _Progress
) -> tuple[list[Reply], Session]:
    """Run the script ``samples`` times over one connection, ``interval`` apart; the
    replies, and the (closed) session that ran them, which knows the SSH server's software
    and the login user."""
    command = collect_command(host.become, counters=settings.samples > 1)
    replies: list[Reply] = []
    session = await transport.open(host)
    async with session:
        for index in range(max(1, settings.samples)):
            if index:
                await asyncio.sleep(settings.interval)
            progress.listing_started = True
            result = await session.run(command, timeout=settings.command_timeout)
            replies.append(_check_result(result))
    return replies, session


def _check_result(result: CommandResult) -> Reply:
    """The reply of a listing that ended normally; COMMAND_FAILED otherwise. How it ended
    is checked before its text is read: a listing cut short can still parse."""
    if result.truncated:
        raise TransportError(
            HostStatus.COMMAND_FAILED,
            f"output exceeded the cap after {len(result.stdout):,} characters; not judged "
            "(a partial listing could hide a listener)",
        )
    if result.exit_signal is not None:
        raise TransportError(
            HostStatus.COMMAND_FAILED,
            f"the collection script was killed by signal {result.exit_signal}: "
            f"{_last_line(result.stderr)}",
        )
    if result.exit_status is None:
        # OpenSSH always reports exit-status or exit-signal; a channel closed without
        # either may have cut the listing anywhere, even at a line boundary.
        raise TransportError(
            HostStatus.COMMAND_FAILED,
            "the listing ended without an exit status: it may be cut (the channel closed "
            "before the command reported how it ended)",
        )
    reply = parse_reply(result.stdout)
    if result.exit_status != 0:
        raise TransportError(
            HostStatus.COMMAND_FAILED,
            f"the {reply.tool.value} listing exited with status {result.exit_status}: "
            f"{_last_line(result.stderr)}",
        )
    return reply


def _last_line(stderr: str) -> str:
    """The last line of stderr, where a failing command says why; cut to 200 characters."""
    lines = stderr.strip().splitlines()
    return lines[-1][:200] if lines else "no message"
