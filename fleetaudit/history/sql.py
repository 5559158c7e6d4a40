"""The SQL every history query goes through: errors translated, and runs ordered by the
columns the schema version records them in."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from fleetaudit.errors import HistoryError
from fleetaudit.history.connection import damage_remedy
from fleetaudit.history.schema import run_order


class HistorySql:
    """An open history database (the connection ``_db``, its file ``path``, and ``_ours``:
    whether it holds fleetaudit's tables yet) and the few helpers its queries share."""

    path: Path
    _db: sqlite3.Connection
    _ours: bool

    def _exactly(self, sql: str, run_id: str) -> Any:
        """The one value ``sql`` selects for the run ``run_id``; HistoryError if none."""
        rows = self._query(sql, (run_id,))
        if not rows:
            raise HistoryError(f"no run {run_id!r} in {self.path}")
        return rows[0][0]

    def _schema(self) -> int:
        """The database's schema version (``PRAGMA user_version``)."""
        return int(self._query("PRAGMA user_version", ())[0][0])

    def _key(self) -> str:
        """The columns that order runs, oldest first (see :func:`run_order`): the only text
        ever put into this module's SQL, one of two constants (hence its ``noqa: S608``)."""
        return run_order(self._schema())

    def _newest_first(self) -> str:
        """The ORDER BY clause of runs newest first."""
        return ", ".join(f"{column} DESC" for column in self._key().split(", "))

    def _query(self, sql: str, params: tuple[object, ...]) -> list[tuple[Any, ...]]:
        try:
            return self._db.execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            remedy = damage_remedy(exc, self.path)
            raise HistoryError(f"history database {self.path}: {exc}{remedy}") from exc
