"""Report stage: one module per output format, chosen from :class:`OutputFormat`."""

from __future__ import annotations

from enum import StrEnum
from typing import assert_never

from fleetaudit.report.interface import Formatter
from fleetaudit.report.json import SCHEMA_VERSION, JsonFormatter, run_document
from fleetaudit.report.table import TableFormatter


class OutputFormat(StrEnum):
    """Every report format fleetaudit can write."""

    TABLE = "table"
    JSON = "json"

    def formatter(self) -> Formatter:
        """The formatter for this format."""
        if self is OutputFormat.TABLE:
            return TableFormatter()
        if self is OutputFormat.JSON:
            return JsonFormatter()
        assert_never(self)


__all__ = [
    "SCHEMA_VERSION",
    "Formatter",
    "JsonFormatter",
    "OutputFormat",
    "TableFormatter",
    "run_document",
]
