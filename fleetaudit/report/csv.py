"""CSV: one row per finding, for spreadsheets. Cells that a spreadsheet would run as a
formula (starting with ``= + - @``, tab or CR) are prefixed with ``'``."""

from __future__ import annotations

import csv
import io

from fleetaudit.model.run import RunResult
from fleetaudit.report.escape import terminal_safe
from fleetaudit.report.interface import Formatter

HEADER = (
    "severity", "host", "rule_id", "proto", "listener", "process", "message", "waived",
    "fingerprint",
)  # fmt: skip
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def cell(text: str) -> str:
    """``text`` that no spreadsheet evaluates, with control characters made visible."""
    text = terminal_safe(text)
    return "'" + text if text.startswith(_FORMULA_START) else text


class CsvFormatter(Formatter):
    """Findings as CSV with a header row."""

    def render(self, run: RunResult) -> str:
        """The CSV text."""
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(HEADER)
        for f in run.findings:
            socket = f.socket
            row = (
                f.severity.value,
                f.host,
                f.rule_id,
                socket.proto.value if socket else "",
                socket.endpoint if socket else "",
                f.process,
                f.message,
                "yes" if f.waived else "no",
                f.fingerprint,
            )
            writer.writerow([cell(value) for value in row])
        return buffer.getvalue()
