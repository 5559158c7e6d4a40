"""Report stage: one module per output format, chosen from :class:`OutputFormat`."""

from __future__ import annotations

from enum import StrEnum
from typing import assert_never

from fleetaudit.report.csv import CsvFormatter
from fleetaudit.report.html import HtmlFormatter
from fleetaudit.report.interface import Formatter
from fleetaudit.report.json import SCHEMA_VERSION, JsonFormatter, run_document
from fleetaudit.report.jsonl import JsonLinesFormatter
from fleetaudit.report.junit import JunitFormatter
from fleetaudit.report.markdown import MarkdownFormatter
from fleetaudit.report.prom import PromFormatter
from fleetaudit.report.sarif import SarifFormatter
from fleetaudit.report.table import TableFormatter


class OutputFormat(StrEnum):
    """Every report format fleetaudit can write."""

    TABLE = "table"
    JSON = "json"
    JSONL = "jsonl"
    CSV = "csv"
    MARKDOWN = "markdown"
    SARIF = "sarif"
    JUNIT = "junit"
    PROM = "prom"
    HTML = "html"

    def formatter(self) -> Formatter:
        """The formatter for this format."""
        match self:
            case OutputFormat.TABLE:
                return TableFormatter()
            case OutputFormat.JSON:
                return JsonFormatter()
            case OutputFormat.JSONL:
                return JsonLinesFormatter()
            case OutputFormat.CSV:
                return CsvFormatter()
            case OutputFormat.MARKDOWN:
                return MarkdownFormatter()
            case OutputFormat.SARIF:
                return SarifFormatter()
            case OutputFormat.JUNIT:
                return JunitFormatter()
            case OutputFormat.PROM:
                return PromFormatter()
            case OutputFormat.HTML:
                return HtmlFormatter()
        assert_never(self)


__all__ = [
    "SCHEMA_VERSION",
    "Formatter",
    "JsonFormatter",
    "OutputFormat",
    "TableFormatter",
    "run_document",
]
