"""CSV: one row per host not audited, one per host whose key was not verified, then one row
per finding, for spreadsheets.

Errors outrank findings: a run that could not see part of the fleet must not read as a clean
one, so each host not audited gets a row first, with severity :data:`NOT_AUDITED` and rule
``host-status:<status>`` (a colon, which no policy rule id may contain), so a filter on
either column never mixes them with findings. Likewise a host audited over SSH without
verifying its key (``--insecure-no-host-key-check``) gets a row with severity
:data:`UNVERIFIED` and rule ``host-key:not-verified``: its findings, or their absence,
prove nothing. A finding whose waiver has expired carries
:attr:`Finding.expired_waiver_note` before its message. Cells that a spreadsheet would run
as a formula (starting with ``= + - @``, tab or CR) are prefixed with ``'``."""

from __future__ import annotations

import csv
import io

from fleetaudit.model.finding import Finding
from fleetaudit.model.host import HostSnapshot
from fleetaudit.model.run import RunResult
from fleetaudit.report.escape import terminal_safe
from fleetaudit.report.interface import Formatter
from fleetaudit.report.summary import UNVERIFIED_HOST_KEY, unverified_hosts

HEADER = (
    "severity", "host", "rule_id", "proto", "listener", "process", "message", "waived",
    "fingerprint",
)  # fmt: skip
NOT_AUDITED = "not-audited"
"""The severity cell of a host that could not be audited: no finding has this severity."""
STATUS_RULE = "host-status:"
"""Prefix of the rule cell of a host not audited, followed by its status (``timeout``)."""
UNVERIFIED = "unverified"
"""The severity cell of a host whose key was not verified: no finding has this severity."""
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def cell(text: str) -> str:
    """``text`` that no spreadsheet evaluates, with control characters made visible."""
    text = terminal_safe(text)
    return "'" + text if text.startswith(_FORMULA_START) else text


class CsvFormatter(Formatter):
    """Hosts not audited, then findings, as CSV with a header row."""

    def render(self, run: RunResult) -> str:
        """The CSV text."""
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(HEADER)
        rows = [_host_row(s) for s in run.failed_hosts]
        rows += [_unverified_row(s) for s in unverified_hosts(run)]
        rows += [_finding_row(f) for f in run.findings]
        writer.writerows([cell(value) for value in row] for row in rows)
        return buffer.getvalue()


def _host_row(snapshot: HostSnapshot) -> tuple[str, ...]:
    """A host not audited, in the findings' columns: why in ``message`` (for a host a
    stopped run never finished, the error names the signal)."""
    why = f": {snapshot.error}" if snapshot.error else ""
    message = f"not audited ({snapshot.status.value}){why}"
    status_rule = STATUS_RULE + snapshot.status.value
    return (NOT_AUDITED, snapshot.host, status_rule, "", "", "", message, "no", "")


def _unverified_row(snapshot: HostSnapshot) -> tuple[str, ...]:
    rule = "host-key:not-verified"
    return (UNVERIFIED, snapshot.host, rule, "", "", "", UNVERIFIED_HOST_KEY, "no", "")


def _finding_row(f: Finding) -> tuple[str, ...]:
    socket = f.socket
    return (
        f.severity.value,
        f.host,
        f.rule_id,
        socket.proto.value if socket else "",
        socket.endpoint if socket else "",
        f.process,
        f.expired_waiver_note + f.message,
        "yes" if f.waived else "no",
        f.fingerprint,
    )
