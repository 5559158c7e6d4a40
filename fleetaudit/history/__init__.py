"""History stage: runs kept in SQLite, and the diff between two runs (or snapshot files)."""

from __future__ import annotations

from fleetaudit.history.diff import HostChange, ListenerKey, RunDiff, diff_runs
from fleetaudit.history.files import load_run_file
from fleetaudit.history.rows import RunRow, default_db_path
from fleetaudit.history.store import HistoryStore

__all__ = [
    "HistoryStore",
    "HostChange",
    "ListenerKey",
    "RunDiff",
    "RunRow",
    "default_db_path",
    "diff_runs",
    "load_run_file",
]
