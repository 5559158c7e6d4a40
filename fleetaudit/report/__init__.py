"""Report stage: one module per output format, chosen from :class:`OutputFormat`.

A format's module is imported when it is chosen, not with the package: every command
imports this package for :class:`OutputFormat`, and the formatters bring in tabulate, XML
and pydantic's models, which ``fleetaudit parse --format json`` never needs."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, assert_never

from fleetaudit.lazy import exports

if TYPE_CHECKING:
    from fleetaudit.report.interface import Formatter
    from fleetaudit.report.json import SCHEMA_VERSION, JsonFormatter, run_document
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
                from fleetaudit.report.table import TableFormatter

                return TableFormatter()
            case OutputFormat.JSON:
                from fleetaudit.report.json import JsonFormatter

                return JsonFormatter()
            case OutputFormat.JSONL:
                from fleetaudit.report.jsonl import JsonLinesFormatter

                return JsonLinesFormatter()
            case OutputFormat.CSV:
                from fleetaudit.report.csv import CsvFormatter

                return CsvFormatter()
            case OutputFormat.MARKDOWN:
                from fleetaudit.report.markdown import MarkdownFormatter

                return MarkdownFormatter()
            case OutputFormat.SARIF:
                from fleetaudit.report.sarif import SarifFormatter

                return SarifFormatter()
            case OutputFormat.JUNIT:
                from fleetaudit.report.junit import JunitFormatter

                return JunitFormatter()
            case OutputFormat.PROM:
                from fleetaudit.report.prom import PromFormatter

                return PromFormatter()
            case OutputFormat.HTML:
                from fleetaudit.report.html import HtmlFormatter

                return HtmlFormatter()
        assert_never(self)


class DiffFormat(StrEnum):
    """Output of ``fleetaudit diff``."""

    TABLE = "table"
    JSON = "json"
    MARKDOWN = "markdown"


__all__ = [
    "SCHEMA_VERSION",
    "DiffFormat",
    "Formatter",
    "JsonFormatter",
    "OutputFormat",
    "TableFormatter",
    "run_document",
]

__getattr__, __dir__ = exports(
    __name__,
    {
        "SCHEMA_VERSION": "json",
        "Formatter": "interface",
        "JsonFormatter": "json",
        "TableFormatter": "table",
        "run_document": "json",
        # the other formats' formatters, importable from here as before (not in __all__)
        "CsvFormatter": "csv",
        "HtmlFormatter": "html",
        "JsonLinesFormatter": "jsonl",
        "JunitFormatter": "junit",
        "MarkdownFormatter": "markdown",
        "PromFormatter": "prom",
        "SarifFormatter": "sarif",
    },
)
