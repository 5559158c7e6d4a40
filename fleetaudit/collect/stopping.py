"""Stopping a run cleanly on SIGINT, SIGTERM or SIGHUP.

The first signal asks the run to stop: no new host is started, hosts in flight are
cancelled (their connections closed), and the run ends with what it has, so the report and
the history still get written. A second signal, while the run stops or afterwards while the
reports are written, ends the process at once (:func:`fleetaudit.signals.stop_at_once`).
What a signal does once the audit is over is :mod:`fleetaudit.signals`'.
"""

from __future__ import annotations

import asyncio
import signal
from types import FrameType

from fleetaudit.signals import defer_signals, stop_at_once, stop_signals


class StopRequest:
    """Set by the first stop signal (:func:`stop_signals`) while installed."""

    def __init__(self) -> None:
        self.event = asyncio.Event()
        self.signal_name: str | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._signals: tuple[signal.Signals, ...] = ()

    def install(self) -> None:
        """Catch the stop signals in the running loop."""
        self._loop = asyncio.get_running_loop()
        self._signals = stop_signals()
        for number in self._signals:
            self._loop.add_signal_handler(number, self._received, number)

    def uninstall(self) -> None:
        """Leave the event loop's handlers. After a stop request, a second signal still
        ends the process at once until it exits (the reports are being written); otherwise
        a first one is kept for the rest of the command (:func:`defer_signals`)."""
        if self._loop is not None:
            for number in self._signals:
                self._loop.remove_signal_handler(number)
            self._loop = None
            if self.event.is_set():
                for number in self._signals:
                    signal.signal(number, _second_signal_handler)
            else:
                defer_signals()

    def _received(self, number: signal.Signals) -> None:
        if self.event.is_set():
            stop_at_once(number)
        self.signal_name = number.name
        self.event.set()


def _second_signal_handler(number: int, frame: FrameType | None) -> None:
    stop_at_once(signal.Signals(number))
