"""HTML: one self-contained file (no network access, no external assets) for people who
read reports in a browser: summary, a chart of listeners by bind scope, sortable and
filterable findings, and a section per host.

Every string from a host is escaped on the server side (control characters made visible,
then HTML-escaped); the small script only sorts and hides existing rows, it never builds
markup from data. ``#q=TEXT`` in the URL pre-fills the filter, so a filtered view can be
linked from a ticket.
"""

from __future__ import annotations

import html
from importlib import resources

from fleetaudit.model.enums import BindScope, HostKeyPolicy, Severity
from fleetaudit.model.finding import Finding
from fleetaudit.model.host import HostSnapshot
from fleetaudit.model.run import RunResult
from fleetaudit.report.escape import terminal_safe
from fleetaudit.report.interface import Formatter
from fleetaudit.report.summary import host_keys_label, only_local_hosts, summarize


def h(text: object) -> str:
    """Remote or local text, safe in HTML text and attribute values."""
    return html.escape(terminal_safe(str(text)), quote=True)


def _asset(name: str) -> str:
    return resources.files("fleetaudit").joinpath("data", "html", name).read_text("utf-8")


class HtmlFormatter(Formatter):
    """The whole report as one HTML page."""

    def render(self, run: RunResult) -> str:
        """The HTML document."""
        body = "\n".join(
            [
                _header(run),
                _chart(run),
                _findings(run.findings),
                *(_host(snapshot) for snapshot in run.snapshots),
            ]
        )
        return (
            '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f"<title>fleetaudit {h(run.run_id)}</title>"
            '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
            "style-src 'unsafe-inline'; script-src 'unsafe-inline'\">"
            f"<style>{_asset('report.css')}</style></head>\n<body>\n{body}\n"
            f"<script>{_asset('report.js')}</script>\n</body></html>\n"
        )


def _header(run: RunResult) -> str:
    summary = summarize(run)
    failed = summary.hosts_total - summary.hosts_audited
    badges = "".join(
        f'<span class="badge sev-{s}">{n} {s}</span>'
        for s, n in summary.findings_by_severity.items()
        if n
    )
    warnings = []
    if run.host_key_policy is HostKeyPolicy.INSECURE and not only_local_hosts(run):
        warnings.append("Host keys were NOT verified: these results prove nothing.")
    if run.interrupted_by:
        warnings.append(f"Partial: the run was stopped by {h(run.interrupted_by)}.")
    notes = "".join(f'<p class="warning">{w}</p>' for w in warnings)
    keys = h(host_keys_label(run))
    return (
        f"<header><h1>fleetaudit report</h1>{notes}"
        f"<p>Run <code>{h(run.run_id)}</code>, {run.started_at:%Y-%m-%d %H:%M} UTC; "
        f"policy <code>{h(run.policy_name)}</code>; host keys {keys}.</p>"
        f'<p id="totals">{summary.hosts_audited} of {summary.hosts_total} hosts audited, '
        f"{failed} not audited; {len(run.active_findings)} findings {badges or 'none'}</p>"
        "</header>"
    )


def _chart(run: RunResult) -> str:
    counts = summarize(run).listeners_by_scope
    peak = max(counts.values(), default=0) or 1
    bars = []
    for index, scope in enumerate(BindScope):
        count = counts.get(scope.value, 0)
        width = round(300 * count / peak)
        y = 8 + index * 26
        bars.append(
            f'<text x="0" y="{y + 14}">{scope.value}</text>'
            f'<rect class="scope-{scope.value}" x="90" y="{y}" width="{width}" height="18">'
            f"<title>{scope.value}: {count}</title></rect>"
            f'<text x="{96 + width}" y="{y + 14}">{count}</text>'
        )
    height = 16 + 26 * len(BindScope)
    return (
        '<section id="scopes"><h2>Listeners by bind scope</h2>'
        f'<svg role="img" aria-label="listeners by bind scope" width="460" height="{height}">'
        f"{''.join(bars)}</svg></section>"
    )


def _findings(findings: tuple[Finding, ...]) -> str:
    rows = "\n".join(_finding_row(f) for f in findings)
    severities = "".join(f'<option value="{s.value}">{s.value}</option>' for s in Severity)
    return (
        '<section id="findings-section"><h2>Findings</h2>'
        '<p class="controls"><input id="filter" type="search" placeholder="filter: host, rule, '
        'process, address..." aria-label="filter findings"> <select id="severity" '
        f'aria-label="severity"><option value="">all severities</option>{severities}</select> '
        f'<span id="shown">{len(findings)}</span> shown</p>'
        '<table id="findings"><thead><tr><th data-sort="rank">severity</th><th>host</th>'
        "<th>rule</th><th>listener</th><th>process</th><th>message</th></tr></thead>"
        f"<tbody>\n{rows}\n</tbody></table></section>"
    )


def _finding_row(finding: Finding) -> str:
    status = "waived" if finding.waived else "active"
    listener = finding.socket.listener if finding.socket else ""
    return (
        f'<tr class="{status}" data-severity="{finding.severity.value}" '
        f'data-rank="{finding.severity.rank}">'
        f'<td class="sev-{finding.severity.value}">{finding.severity.value}'
        f"{' (waived)' if finding.waived else ''}</td>"
        f'<td><a href="#host-{h(finding.host)}">{h(finding.host)}</a></td>'
        f"<td>{h(finding.rule_id)}</td><td>{h(listener)}</td><td>{h(finding.process)}</td>"
        f"<td>{_message(finding)}</td></tr>"
    )


def _message(finding: Finding) -> str:
    """The message cell: an expired waiver is named before the message (the finding counts
    again, and ``#q=expired`` finds it); a waiver in force follows it with its reason, ticket
    and expiry, so the accepted risk can be judged from the page."""
    note = finding.expired_waiver_note
    expired = f'<span class="expired">{h(note.strip())}</span> ' if note else ""
    waiver = finding.waiver
    if not finding.waived or waiver is None:
        return f"{expired}{h(finding.message)}"
    ticket = f", ticket {h(waiver.ticket)}" if waiver.ticket else ""
    return (
        f'{h(finding.message)}<br><span class="waiver">Waived until {waiver.expires}{ticket}: '
        f"{h(waiver.reason)}</span>"
    )


def _host(snapshot: HostSnapshot) -> str:
    detail = snapshot.error or snapshot.privilege_note or ""
    rows = "".join(
        f"<tr><td>{s.proto.value}</td><td>{h(s.endpoint)}</td><td>{s.bind_scope.value}</td>"
        f"<td>{h(s.owner_label)}</td><td>{s.accept_queue if s.accept_queue is not None else ''}"
        f"{'/' + str(s.backlog_limit) if s.backlog_limit is not None else ''}</td></tr>"
        for s in snapshot.listeners
    )
    table = (
        "<table><thead><tr><th>proto</th><th>listener</th><th>scope</th><th>process</th>"
        f"<th>accept queue</th></tr></thead><tbody>{rows}</tbody></table>"
        if rows
        else ""
    )
    return (
        f'<section class="host" id="host-{h(snapshot.host)}"><h2>{h(snapshot.host)} '
        f'<span class="status status-{snapshot.status.value}">{snapshot.status.value}</span></h2>'
        f"<p>{h(snapshot.address)}{'; ' + h(detail) if detail else ''}</p>{table}</section>"
    )
