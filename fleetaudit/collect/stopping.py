"""Stopping a run cleanly on SIGINT or SIGTERM.

The first signal asks the run to stop: no new host is started, hosts in flight are
cancelled (their connections closed), and the run ends with what it has, so the report and
the history still get written. A second signal is not caught: it interrupts at once, after
one line on stderr, so that a log read later says why it holds no report.
"""

from __future__ import annotations

import asyncio
import signal
import sys

_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class StopRequest:
    """Set by the first SIGINT/SIGTERM while installed."""

    def __init__(self) -> None:
        self.event = asyncio.Event()
        self.signal_name: str | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def install(self) -> None:
        """Catch SIGINT and SIGTERM in the running loop."""
        self._loop = asyncio.get_running_loop()
        for number in _SIGNALS:
            self._loop.add_signal_handler(number, self._received, number)

    def uninstall(self) -> None:
        """Restore the default handlers."""
        if self._loop is not None:
            for number in _SIGNALS:
                self._loop.remove_signal_handler(number)
            self._loop = None

    def _received(self, number: signal.Signals) -> None:
        if self.event.is_set():
            self.uninstall()
            sys.stderr.write(
                f"fleetaudit: second {number.name}: stopped at once, without the partial "
                "report and the history record\n"
            )
            sys.stderr.flush()
            signal.raise_signal(number)  # the second one: default behaviour, now
            return
        self.signal_name = number.name
        self.event.set()
