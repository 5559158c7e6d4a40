"""Stopping a run cleanly on SIGINT or SIGTERM.

The first signal asks the run to stop: no new host is started, hosts in flight are
cancelled (their connections closed), and the run ends with what it has, so the report and
the history still get written. A second signal, while the run stops or afterwards while the
reports are written, ends the process at once by that signal, after one line on stderr, so
that a log read later says why reports or the history record may be missing.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from types import FrameType

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
        """Leave the event loop's handlers. After a stop request, a second signal still
        ends the process at once until it exits (the reports are being written); otherwise
        the default handlers are back."""
        if self._loop is not None:
            for number in _SIGNALS:
                self._loop.remove_signal_handler(number)
            self._loop = None
            if self.event.is_set():
                for number in _SIGNALS:
                    signal.signal(number, _second_signal_handler)

    def _received(self, number: signal.Signals) -> None:
        if self.event.is_set():
            _stop_at_once(number)
        self.signal_name = number.name
        self.event.set()


def _second_signal_handler(number: int, frame: FrameType | None) -> None:
    _stop_at_once(signal.Signals(number))


def _stop_at_once(number: signal.Signals) -> None:
    """Say why on stderr, then die by the signal itself: no cleanup, no KeyboardInterrupt
    for a caller to catch and report as something else, and the exit status a shell or
    supervisor expects (128 + the signal number; exited with it where the signal cannot
    kill, as PID 1 of a container)."""
    sys.stderr.write(
        f"fleetaudit: second {number.name}: stopped at once; a report not yet written keeps "
        "its previous file (or none), and the run may be missing from the history\n"
    )
    sys.stderr.flush()
    signal.signal(number, signal.SIG_DFL)
    os.kill(os.getpid(), number)
    # Still here: the process is PID 1 of its namespace (a container), whose default
    # action for SIGINT/SIGTERM is to ignore them. Leave with the status a shell reports.
    os._exit(128 + number)
