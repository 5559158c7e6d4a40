"""What a stop signal (SIGINT, SIGTERM, SIGHUP) does once the audit is over, and the one way
fleetaudit ends at once.

A first signal that comes once every host is done stops nothing that is left to do
(:class:`AfterTheAudit`): the reports being written are completed and the run is recorded,
as it would have been. Only while the history database is waited for (another process may
hold it for minutes) does any signal end the process at once: the record is one
transaction, there or not. A second signal ends the process at once (:func:`stop_at_once`),
after one line on stderr, so that a log read later says why reports or the history record
may be missing. The signals during the audit are :mod:`fleetaudit.collect.stopping`'s.

No asyncio here: the CLI imports this module for every command.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType, TracebackType
from typing import Any, Generic, TypeVar

from fleetaudit.stderr import write_line

_Result = TypeVar("_Result")
_Handler = Callable[[int, FrameType | None], Any] | int | signal.Handlers | None

_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def stop_signals() -> tuple[signal.Signals, ...]:
    """SIGINT, SIGTERM and SIGHUP (the terminal went away), but not one the process was
    started ignoring: ``nohup`` and a shell's ``&`` mean a run to go on through them."""
    return tuple(number for number in _SIGNALS if signal.getsignal(number) != signal.SIG_IGN)


_HALF_WRITTEN: set[str] = set()
"""Temporary files being written (see :func:`removed_if_stopped_at_once`)."""


@contextmanager
def removed_if_stopped_at_once(path: str) -> Iterator[None]:
    """While the block writes the temporary file ``path``, a signal that ends the process
    at once removes it first: a report half written must not stay behind, one more on
    every stopped run, beside the previous report it was to replace."""
    _HALF_WRITTEN.add(path)
    try:
        yield
    finally:
        _HALF_WRITTEN.discard(path)


def stop_at_once(
    number: signal.Signals, when: str = "", last_words: Callable[[int], None] | None = None
) -> None:
    """Say why on stderr, remove the temporary file of a report being written, then die by
    the signal itself: no other cleanup, no KeyboardInterrupt for a caller to catch and
    report as something else, and the exit status a shell or supervisor expects (128 + the
    signal number; exited with it where the signal cannot kill, as PID 1 of a container).
    ``when`` says what a signal that is not a second one stopped; ``last_words(status)``
    says the rest (the summary line cron's log ends with) just before."""
    for path in tuple(_HALF_WRITTEN):
        try:
            os.unlink(path)
        except OSError:
            pass  # gone already, or not ours to remove: nothing more to do on the way out
    what = f"{number.name} {when}" if when else f"second {number.name}"
    write_line(
        f"fleetaudit: {what}: stopped at once; a report not yet written keeps its previous "
        "file (or none), and the run may be missing from the history"
    )
    if last_words is not None:
        last_words(128 + number)
    signal.signal(number, signal.SIG_DFL)
    os.kill(os.getpid(), number)
    # Still here: the process is PID 1 of its namespace (a container), whose default
    # action for SIGINT/SIGTERM is to ignore them. Leave with the status a shell reports.
    os._exit(128 + number)


_PENDING: list[signal.Signals] = []
"""A signal that came between the end of the audit and :class:`AfterTheAudit`."""


def defer_signals() -> None:
    """From the end of the audit until :class:`AfterTheAudit` takes over (closing the
    connections, judging the run): a first stop signal is kept for it, a second ends the
    process at once. The default action would kill the process, reports unwritten."""
    for number in stop_signals():
        signal.signal(number, _deferred)


def _deferred(number: int, frame: FrameType | None) -> None:
    if _PENDING:
        stop_at_once(signal.Signals(number))
    _PENDING.append(signal.Signals(number))


RECORD_GRACE_S = 5.0
"""How long the history record may still take once a signal came: it takes well under a
second, unless another process holds the database (then up to minutes)."""


class AfterTheAudit:
    """The signals of the rest of the command once the audit is over (a context manager):
    the first stop signal is said and deferred, a second ends the process at once. While
    the run is recorded (:meth:`recording`), a signal gives the record
    :data:`RECORD_GRACE_S` more, then ends the process at once; once it is recorded, a
    signal changes nothing (the process only says what it did and exits, with the code
    recorded). ``stopped_by``: the signal that stopped the audit itself, so that every
    further one is a second one, and the record is waited for no longer than after one."""

    def __init__(self, *, stopped_by: str | None = None) -> None:
        self.received: str | None = None
        """The name of the deferred first signal (None: none came)."""
        self._stopped_by = stopped_by
        self._recorded = False
        self._recording = False
        self._retaining = False
        self._deadline: float | None = None
        self._previous: dict[signal.Signals, _Handler] = {}

    def __enter__(self) -> AfterTheAudit:
        for number in stop_signals():
            self._previous[number] = signal.getsignal(number)
            signal.signal(number, self._received)
        if _PENDING:  # came while the audit was being closed
            self._received(_PENDING.pop(), None)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        for number, handler in self._previous.items():
            # None: a handler not set from Python, which cannot be put back; the default
            signal.signal(number, signal.SIG_DFL if handler is None else handler)

    def recording(
        self, work: Callable[[], _Result], last_words: Callable[[int], None] | None = None
    ) -> _Result:
        """``work()`` (recording the run), in a thread so that signals are acted on while
        it waits for the database: one that came, before or meanwhile, gives it
        :data:`RECORD_GRACE_S` to finish, then ends the process at once, after
        ``last_words(status)``."""
        if self.received is not None or self._stopped_by is not None:
            self._deadline = time.monotonic() + RECORD_GRACE_S
        self._recording = True
        try:
            done = _Background(work)
            while done.running():
                if self._deadline is not None and time.monotonic() > self._deadline:
                    late = signal.Signals[self.received or self._stopped_by or "SIGTERM"]
                    stop_at_once(
                        late,
                        f"(the history database stayed locked {RECORD_GRACE_S:g} s after it)",
                        last_words,
                    )
        finally:
            self._recording = False
        result = done.result()
        self._recorded = True
        return result

    def retention(self, work: Callable[[], None]) -> None:
        """``work()`` (deleting old runs, once the run is recorded), in a thread; a signal,
        before or meanwhile, stops the waiting for it (for a database another process holds,
        or a long compaction): the next run deletes what is left."""
        if self.received is None and self._stopped_by is None:
            self._retaining = True
            try:
                done = _Background(work)
                while done.running() and self.received is None:
                    pass
            finally:
                self._retaining = False
            if not done.running():
                done.result()
                return
        why = self.received or f"stopped by {self._stopped_by}"
        write_line(f"fleetaudit: {why}: old runs are left for the next run to delete")

    def _received(self, number: int, frame: FrameType | None) -> None:
        received = signal.Signals(number)
        if self._recorded:  # nothing left to stop: the exit code is the one recorded
            self.received = self.received or received.name
            return
        if self._stopped_by is not None or self.received is not None:
            stop_at_once(received)
        self.received = received.name
        if self._retaining:
            return  # the run is recorded: retention is given up, and says so
        if self._recording:
            self._deadline = time.monotonic() + RECORD_GRACE_S
            write_line(
                f"fleetaudit: {received.name}: finishing the history record first, for at "
                f"most {RECORD_GRACE_S:g} s (a second signal stops at once)"
            )
            return
        write_line(
            f"fleetaudit: {received.name}: finishing the reports and the record of the run "
            "first (a second signal stops at once)"
        )


class _Background(Generic[_Result]):
    """``work()`` in a daemon thread, waited for in steps during which this (the main)
    thread runs signal handlers; left behind if the process ends first."""

    def __init__(self, work: Callable[[], _Result]) -> None:
        self._outcome: list[_Result] = []
        self._failure: list[BaseException] = []
        self._thread = threading.Thread(target=self._run, args=(work,), daemon=True)
        self._thread.start()

    def _run(self, work: Callable[[], _Result]) -> None:
        try:
            self._outcome.append(work())
        except BaseException as exc:  # handed to the main thread, raised there
            self._failure.append(exc)

    def running(self) -> bool:
        """Wait a moment; whether the work still runs."""
        self._thread.join(0.2)  # signal handlers run in this thread between the waits
        return self._thread.is_alive()

    def result(self) -> _Result:
        """What the finished work returned, or its exception raised."""
        if self._failure:
            raise self._failure[0]
        return self._outcome[0]


def ignore_stop_signals() -> None:
    """Once the last line is said and the process only exits: a signal then would kill it
    during the interpreter's shutdown (which puts the default handlers back), with a status
    that is not the one said and recorded. Ignored handlers are left as they are."""
    for number in stop_signals():
        signal.signal(number, signal.SIG_IGN)
