"""The history steps of ``run`` and ``merge``: checked before the work, read for the
metrics, the run recorded, and old runs deleted (``--keep-days``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from fleetaudit.cli.console import say
from fleetaudit.errors import FleetAuditError, HistoryError

if TYPE_CHECKING:
    from fleetaudit.history.coverage import Coverage
    from fleetaudit.history.rows import RunTimes
    from fleetaudit.model.run import RunResult


def last_success_in(
    db: Path | None, inventory: str, excluding: Sequence[str] = ()
) -> datetime | None:
    """When the history's latest run that audited every host of ``inventory`` finished
    (for the metrics), leaving out the runs ``excluding`` (which this run replaces) and
    any said to finish after now (made while the clock was ahead); --limit runs, shards
    and other inventories do not count."""
    from fleetaudit.history import default_db_path
    from fleetaudit.history.earlier import last_full_success

    try:
        return last_full_success(db or default_db_path(), inventory, excluding, datetime.now(UTC))
    except HistoryError as exc:
        # a damaged database (or one of a newer release) must not cost the night's audit:
        # the reports are still written, and recording then fails with exit 2
        say(f"warning: {exc}; going on: the reports are written, the run cannot be recorded")
        return None


def check_history(db: Path | None) -> None:
    """Fail now, before the work of a run that will be recorded, when ``db`` could not
    record it (found out after the audit, the night would be lost from the history). The
    default database's directories are made as needed; a ``--db`` whose directory does not
    exist is refused, as ``--output`` is: a typo there would start a new history unseen,
    and the next ``diff`` would find fewer than two runs."""
    from fleetaudit.history import default_db_path
    from fleetaudit.history.connection import check_recordable

    path = db or default_db_path()
    check_recordable(path)
    if path.is_file() and path.stat().st_size == 0:  # fleetaudit's own are never empty
        say(
            f"warning: history database {path} is an empty file: the runs recorded in it "
            "are gone, and a new history starts with this run"
        )
    if db is not None and not db.parent.exists():
        raise HistoryError(
            f"cannot record runs in history database {db}: directory {db.parent} does not "
            "exist (create it, or give another --db)"
        )


def remember(
    result: RunResult,
    code: int,
    db: Path | None,
    covered: Coverage,
    *,
    shards: Sequence[str] = (),
    keep_days: int | None = None,
) -> None:
    """Record the run (one transaction), with what it covered. A merged night records the
    ids of its ``shards``, and replaces its earlier merges. With ``keep_days``, a disk too
    full to record it has the old runs deleted first (see
    :meth:`~fleetaudit.history.HistoryStore.save_making_room`)."""
    from fleetaudit.history import HistoryStore, default_db_path

    with HistoryStore(db or default_db_path()) as store:
        now = datetime.now(UTC)
        deleted = store.save_making_room(
            result, code, covered, shards=shards, keep_days=keep_days, now=now
        )
        if deleted:
            say(
                f"warning: the history database's filesystem is full: deleted {deleted} "
                f"run(s) older than {keep_days} days (--keep-days) before recording this one"
            )
        # a merged night starts with its first shard: runs recorded meanwhile are no sign
        before = None if shards else store.recorded_before(result.run_id)
    if before is not None and (
        before.started_at > result.started_at or before.overlapped(_times_of(result))
    ):
        say(_overlap_warning(result, before))


def _times_of(result: RunResult) -> RunTimes:
    """``result``'s times, as the history keeps them."""
    from fleetaudit.history.rows import RunTimes

    return RunTimes(result.run_id, result.started_at, result.finished_at)


def _overlap_warning(result: RunResult, before: RunTimes) -> str:
    """The warning for a run that started before the run recorded just before it
    finished. Only that run is compared: a run made while the clock was months ahead made
    every run after it warn, for months (QA)."""
    started = _shown(result.started_at)
    if before.started_at > result.started_at:
        return (
            f"warning: this run started at {started}, before run {before.id} (started "
            f"{_shown(before.started_at)}), which was recorded first: the two runs overlapped "
            "(run the job under `flock -n`), or the clock was wrong for one of them. The "
            "history goes by the order runs were recorded, so diff takes this run as the latest"
        )
    return (
        f"warning: this run started at {started}, while run {before.id} (started "
        f"{_shown(before.started_at)}, finished {_shown(before.finished_at)}) was still "
        "running: two runs at once (run the job under `flock -n`). The default diff "
        "compares this run with the last run that did not overlap it"
    )


def recorder(
    result: RunResult, db: Path | None, covered: Coverage, keep_days: int | None
) -> Callable[[int], None]:
    """What records ``result`` with its exit code, once that is known (:func:`remember`)."""
    return lambda code: remember(result, code, db, covered, keep_days=keep_days)


def forget_old_runs(db: Path | None, keep_days: int, spare: str) -> None:
    """Apply ``--keep-days`` once the run ``spare`` is recorded. A failure is a warning,
    not a failed run: the night is in the history with its exit code, and the next run
    deletes what is left."""
    from fleetaudit.history import HistoryStore, default_db_path

    try:
        with HistoryStore(db or default_db_path()) as store:
            store.prune(keep_days, datetime.now(UTC), spare=spare)
    except FleetAuditError as exc:
        say(f"warning: {exc}")


def _shown(moment: datetime) -> str:
    """A run's start as messages show it."""
    return f"{moment.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC"
