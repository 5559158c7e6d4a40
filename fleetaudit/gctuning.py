"""The cyclic garbage collector around bulk work and during a fleet run.

Two situations make CPython's collector cost more than the work it watches:

* Bulk parsing and rendering: a 200,000-line listing becomes hundreds of thousands of small
  acyclic records, and every allocation burst makes the collector re-scan all records made
  so far. :func:`collector_paused` pauses it for such a block.
* A fleet run: many short-lived container objects (asyncssh packets, channels, futures)
  pass while a large stable heap (modules, inventory, policy) sits still, and every finished
  connection is garbage in a reference cycle (asyncssh keeps bound methods of a connection
  on the connection) that only a full collection frees: left alone, a 1,000-host run ended
  with ~500 dead connections (~10 MiB) in memory. :class:`RunCollection` collects in full
  once per batch of finished hosts, lets the young generation fill further between
  collections, and leaves the objects that predate the run out of all of them.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType

_BULK = 100_000
"""Young objects left by a paused block above which they are filed as old (see below)."""


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector for the block; file a bulk of what it made as old.

    Merely pausing is not enough after a bulk block: the first allocation after it would
    scan every record at once, as the youngest generation, and again as the middle one. So
    when the block leaves more than ``_BULK`` young objects, they move straight to the
    oldest generation (``gc.freeze`` then ``gc.unfreeze``, both constant-time list splices),
    where the next full collection sees them: nothing is lost. This is skipped when objects
    are frozen already (during a :class:`RunCollection`, or by a caller), because unfreezing
    would release them too, and for small blocks, such as one host's listing in a run, whose
    young neighbours (in-flight connections) are better collected young.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            if gc.get_count()[0] > _BULK and gc.get_freeze_count() == 0:
                gc.freeze()
                gc.unfreeze()
            gc.enable()


_YOUNG_THRESHOLD = 5000
"""Allocations between young collections during a run (CPython's default is 700)."""


class RunCollection:
    """The collector settings of one run; use as a context manager, call :meth:`host_done`.

    On entry the objects that already exist are frozen (``gc.freeze``: full collections
    skip them) and the young threshold is raised; on exit both are undone, so a library
    caller's process is left as it was. A caller that froze objects itself keeps its
    frozen set untouched (nothing more is frozen, nothing is unfrozen).
    """

    def __init__(self, batch: int) -> None:
        self._batch = max(1, batch)
        self._done = 0
        self._since_collection = 0
        self._thresholds = gc.get_threshold()
        self._freezing = False

    def __enter__(self) -> RunCollection:
        self._thresholds = gc.get_threshold()
        self._freezing = gc.get_freeze_count() == 0
        if self._freezing:
            gc.freeze()
        gc.set_threshold(max(self._thresholds[0], _YOUNG_THRESHOLD), *self._thresholds[1:])
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        gc.set_threshold(*self._thresholds)
        if self._since_collection and gc.isenabled():
            gc.collect()  # the last batch's connections, before the report needs memory
        if self._freezing:
            gc.unfreeze()

    def host_done(self) -> None:
        """Count a finished host; collect in full after ``batch`` of them (the concurrency:
        that many connections have ended since the last collection), or after a quarter of
        the hosts done so far once that is more, so that the collections, each of which
        scans every snapshot kept so far, cost time linear in the fleet size."""
        self._done += 1
        self._since_collection += 1
        if self._since_collection >= max(self._batch, self._done // 4) and gc.isenabled():
            gc.collect()
            self._since_collection = 0
