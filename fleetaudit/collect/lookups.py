"""Host-name lookups (getaddrinfo) on threads of their own, which the end of a run does not
wait for (:class:`AuditLoop`).

A lookup cannot be cancelled: when the resolver does not answer, it runs for the resolver's
own timeout (``options timeout:`` and ``attempts:`` in resolv.conf, 10-30 s and more)
whatever ``--connect-timeout`` says. asyncio runs lookups on its default executor, which it
joins when the loop closes, and which asyncssh also uses to build each connection's
options. So a run whose hosts had timed out long before, or that a SIGTERM had stopped,
still waited for the last lookup before it could write its report, and hung lookups
queued every later connection, hosts given by address included, past
``--connect-timeout``. Here lookups have their own executor, whose threads nobody waits for:
a lookup that nobody waits for any more dies with the process, and a lookup that must wait
for a thread does so inside its host's ``--connect-timeout``.
"""

from __future__ import annotations

import asyncio
import queue
import socket
import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future
from functools import partial
from typing import Any

from fleetaudit.transport.lookup_watch import looking_up

_Job = tuple[Future[Any], Callable[..., Any], tuple[Any, ...], dict[str, Any]] | None
"""A lookup to run, or None: the thread that takes it ends."""


class LookupThreads(Executor):
    """Daemon threads, one more whenever none is idle, up to ``workers``; :meth:`shutdown`
    never waits.

    The bound is high on purpose: a lookup that hangs holds its thread for the resolver's
    timeout after its host has given up. A run starts about ``concurrency / connect
    timeout`` hosts a second, so hung lookups hold at most that many times the resolver's
    timeout threads (100 / 10 s x 30 s = 300); a thread waiting in the resolver costs
    little memory. Past the bound a lookup waits for a thread within its host's timeout."""

    def __init__(self, workers: int = 1024) -> None:
        self._lookups: queue.SimpleQueue[_Job] = queue.SimpleQueue()
        self._most = workers
        self._started = 0
        self._idle = 0
        self._counting = threading.Lock()

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        with self._counting:
            start = self._idle == 0 and self._started < self._most
            if start:
                self._started += 1
            else:
                self._idle -= 1  # an idle thread takes this one
        self._lookups.put((future, fn, args, kwargs))
        if start:
            name = f"fleetaudit-lookup-{id(self):x}"
            threading.Thread(target=self._serve, name=name, daemon=True).start()
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Return at once: idle threads end, and a lookup still running is abandoned with
        its thread, which ends when the lookup does."""
        with self._counting:
            threads, self._most = self._started, 0
        for _ in range(threads):
            self._lookups.put(None)

    def _serve(self) -> None:
        while (job := self._lookups.get()) is not None:
            future, fn, args, kwargs = job
            if future.set_running_or_notify_cancel():  # else cancelled while queued
                try:
                    result = fn(*args, **kwargs)
                except BaseException as exc:  # handed to whoever waits, as the base class does
                    future.set_exception(exc)
                else:
                    future.set_result(result)
            with self._counting:
                self._idle += 1


class AuditLoop(asyncio.SelectorEventLoop):
    """The run's event loop: asyncio's, with host-name lookups on :class:`LookupThreads`."""

    def __init__(self) -> None:
        super().__init__()
        self._lookup_threads = LookupThreads()

    @property
    def detached_threads(self) -> Executor:
        """Threads the end of the run does not wait for, for other work that may hang
        (an ssh_config's ``Match exec`` command, :meth:`SshConfigView.off_loop
        <fleetaudit.transport.sshconfig.SshConfigView.off_loop>`)."""
        return self._lookup_threads

    async def getaddrinfo(
        self,
        host: bytes | str | None,
        port: bytes | str | int | None,
        *,
        family: int = 0,
        type: int = 0,
        proto: int = 0,
        flags: int = 0,
    ) -> list[tuple[Any, ...]]:
        lookup = partial(socket.getaddrinfo, host, port, family, type, proto, flags)
        name = host.decode(errors="replace") if isinstance(host, bytes) else str(host)
        return await looking_up(name, self.run_in_executor(self._lookup_threads, lookup))

    def close(self) -> None:
        self._lookup_threads.shutdown()
        super().close()
