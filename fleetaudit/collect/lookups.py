"""The event loop's default executor, where asyncio runs host-name lookups (getaddrinfo).

A lookup cannot be cancelled: when the resolver does not answer, it runs for the resolver's
own timeout (``options timeout:`` and ``attempts:`` in resolv.conf, 10-30 s and more)
whatever ``--connect-timeout`` says. asyncio's standard executor is joined when the loop
closes, so a run whose hosts had timed out long before, or that a SIGTERM had stopped,
still waited for the last lookup before it could write its report. Here a lookup that
nobody waits for any more is left to its daemon thread and dies with the process.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

_Job = tuple[Future[Any], Callable[..., Any], tuple[Any, ...], dict[str, Any]]


class LookupThreads(ThreadPoolExecutor):
    """At most ``workers`` daemon threads, started as needed; :meth:`shutdown` never waits.
    A ThreadPoolExecutor only because asyncio accepts no other kind as default executor:
    the base class's own threads are never started."""

    def __init__(self, workers: int = 32) -> None:
        super().__init__(max_workers=1)
        self._lookups: queue.SimpleQueue[_Job] = queue.SimpleQueue()
        self._most = workers
        self._serving: list[threading.Thread] = []
        self._starting = threading.Lock()

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        self._lookups.put((future, fn, args, kwargs))
        with self._starting:
            if len(self._serving) < self._most:
                thread = threading.Thread(target=self._serve, name="fleetaudit-lookup", daemon=True)
                self._serving.append(thread)
                thread.start()
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Return at once: a lookup still running is abandoned with its thread."""
        super().shutdown(wait=False, cancel_futures=cancel_futures)

    def _serve(self) -> None:
        while True:
            future, fn, args, kwargs = self._lookups.get()
            if not future.set_running_or_notify_cancel():
                continue  # cancelled while queued: nobody waits for it
            try:
                result = fn(*args, **kwargs)
            except BaseException as exc:  # handed to whoever waits, as the base class does
                future.set_exception(exc)
            else:
                future.set_result(result)
