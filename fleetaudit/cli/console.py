"""Messages and progress for humans, always on stderr; stdout is reserved for data.

Colour and the progress bar appear only on a terminal and never when ``NO_COLOR`` is set;
under cron (no TTY) fleetaudit prints nothing but the final one-line summary, preceded by
one line per status naming the hosts not audited (:func:`not_audited_lines`), and the
warnings of the inputs.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING

from fleetaudit.model.enums import HostStatus
from fleetaudit.report.escape import terminal_safe
from fleetaudit.report.summary import first_names
from fleetaudit.stderr import silence, write_line

if TYPE_CHECKING:
    from rich.console import Console

    from fleetaudit.inventory.model import Inventory
    from fleetaudit.model.host import HostSnapshot


def _stderr_console() -> Console:
    from rich.console import Console

    return Console(stderr=True, no_color=bool(os.environ.get("NO_COLOR")), highlight=False)


def say(message: str) -> None:
    """Print one line for the operator on stderr (never failing: :mod:`fleetaudit.stderr`)."""
    write_line(f"fleetaudit: {message}")


def inventory_warnings(inventory: Inventory) -> None:
    """Say the inventory's warnings: login settings it does not carry (its ``notes``) and
    key files that cannot be read."""
    from fleetaudit.inventory.key_files import unreadable_keys

    for note in (*inventory.notes, *unreadable_keys(inventory)):
        write_line(f"fleetaudit: warning: {terminal_safe(note)}")


def error(message: str) -> None:
    """Print an error for the operator on stderr (escaped: it may quote remote text)."""
    write_line(f"fleetaudit: error: {terminal_safe(message)}")


NAMES_SHOWN = 5
"""Hosts named per status in :func:`not_audited_lines`: enough to act on in a cron mail,
bounded for a fleet where hundreds fail at once (the report lists them all)."""


def not_audited_lines(snapshots: Sequence[HostSnapshot]) -> list[str]:
    """One line per status of the hosts not audited, with the count and the first
    :data:`NAMES_SHOWN` names in report order: ``not audited: timeout 20 (h0021, h0022,
    h0023, h0024, h0025 and 15 more)``. Printed just above the summary line, so the end of
    a cron log (``tail -n 20``) says which hosts to look at; at most one line per status."""
    named: dict[HostStatus, list[str]] = {}
    for snapshot in snapshots:
        if not snapshot.status.audited:
            named.setdefault(snapshot.status, []).append(terminal_safe(snapshot.host))
    return [_status_line(status, named[status]) for status in HostStatus if status in named]


def _status_line(status: HostStatus, names: list[str]) -> str:
    return f"not audited: {status.value} {len(names)} ({first_names(names, NAMES_SHOWN)})"


class HostProgress:
    """A progress bar of hosts done/failed while a run is under way (TTY only)."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.done = 0
        self.failed = 0
        self._update: Callable[[], None] | None = None

    def host_done(self, snapshot: HostSnapshot) -> None:
        """Count a finished host and redraw."""
        self.done += 1
        if not snapshot.status.audited:
            self.failed += 1
        if self._update is not None:
            self._update()

    @contextmanager
    def shown(self) -> Iterator[HostProgress]:
        """Show the bar while the block runs, if stderr is an interactive terminal."""
        if not sys.stderr.isatty() or os.environ.get("TERM") == "dumb":
            yield self
            return
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        columns = (
            TextColumn("auditing"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[failed]} failed"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
        )
        bar = Progress(*columns, console=_stderr_console(), transient=True)
        task = bar.add_task("hosts", total=self.total, failed=0)

        def update() -> None:
            bar.update(task, completed=self.done, failed=self.failed)

        # Drawing on a terminal that was closed (the SIGHUP that stops the run) fails; the
        # run must still write its reports, so the bar is given up quietly.
        with _quietly_on_a_closed_terminal():
            bar.start()
        self._update = update
        try:
            yield self
        finally:
            self._update = None
            with _quietly_on_a_closed_terminal():
                bar.stop()


@contextmanager
def _quietly_on_a_closed_terminal() -> Iterator[None]:
    try:
        yield
    except OSError:
        silence()
