"""Markdown: for change tickets and pull-request comments, the summary first.

Remote text is made inert: control characters are escaped, and ``|``, backticks, ``<``/``>``
and ``*``/``_`` cannot break the table or inject markup; ``&`` cannot start an entity.
GFM renderers (GitHub, markdown-it with linkify) also turn ``http://…``, ``www.…``,
``host.py`` and ``a@b`` in plain text into links, and GitHub ``$…$`` into math: ``.``, ``@``
and ``$`` are escaped, and so are the ``:`` of a scheme (a letter before it, ``//`` after)
and the first ``/`` of a protocol-relative ``//localhost``; an escaped character is a token
of its own, so no link can span it. Text that cannot start a link (``SHA256:ab//c``) keeps
its ``:`` and ``/`` unescaped, so it can still be searched for in the Markdown source.
Text in a code span is not backslash-escaped (CommonMark shows the backslash there):
:func:`md_code` fences it instead.
"""

from __future__ import annotations

import re

from fleetaudit.model.finding import Finding
from fleetaudit.model.run import RunResult
from fleetaudit.report.escape import terminal_safe
from fleetaudit.report.interface import Formatter
from fleetaudit.report.summary import counted, host_keys_label, summarize

_MARKUP = re.compile(r"([\\`*_{}\[\]<>|#!~&.@$])")
_LINK_START = re.compile(r"(?<=[A-Za-z]):(?=//)|(?<![A-Za-z0-9:/])/(?=/)")
_BACKTICKS = re.compile(r"`+")


def md(text: str | None) -> str:
    """``text`` safe inside a Markdown table cell (outside a code span)."""
    escaped = _MARKUP.sub(r"\\\1", terminal_safe(text or "")).replace("\n", " ")
    return _LINK_START.sub(r"\\\g<0>", escaped)


def md_code(text: str | None) -> str:
    """``text`` as a whole inline code span, delimiters included.

    Backslash escapes are literal inside a code span (``\\>`` shows both characters), so the
    text is not escaped: the fence is one backtick longer than the longest run of backticks
    in it, and a space pads text that starts or ends with a backtick or a space (CommonMark
    strips one such space from each side). For running text and lists, not table cells
    (where GFM splits on ``|`` even inside a code span).
    """
    body = terminal_safe(text or "")
    fence = "`" * (max((len(run) for run in _BACKTICKS.findall(body)), default=0) + 1)
    if not body or body[0] in "` " or body[-1] in "` ":
        body = f" {body} "
    return f"{fence}{body}{fence}"


class MarkdownFormatter(Formatter):
    """A summary, the findings by severity, hosts not audited, waived findings."""

    def render(self, run: RunResult) -> str:
        """The Markdown document."""
        parts = [_summary(run), _findings("Findings", run.active_findings)]
        parts.append(_failed_hosts(run))
        parts.append(_waived(tuple(f for f in run.findings if f.waived)))
        return "\n\n".join(part for part in parts if part) + "\n"


def _summary(run: RunResult) -> str:
    summary = summarize(run)
    failed = summary.hosts_total - summary.hosts_audited
    severities = ", ".join(f"{n} {s}" for s, n in summary.findings_by_severity.items() if n)
    lines = [
        f"## fleetaudit: {counted(len(run.active_findings), 'finding')}; "
        f"{counted(summary.hosts_total, 'host')}, {summary.hosts_audited} audited",
        "",
        f"- **Hosts:** {summary.hosts_audited} audited, {failed} not audited",
        f"- **Findings:** {severities or 'none'}",
        f"- **Policy:** {md(run.policy_name)} ({md_code(run.policy_source)})",
        f"- **Host keys:** {host_keys_label(run)}",
        f"- **Run:** {run.run_id}, {run.started_at:%Y-%m-%d %H:%M} UTC",
    ]
    if run.interrupted_by:
        lines.append(f"- **Partial:** the run was stopped by {md(run.interrupted_by)}")
    if summary.waivers_expired:
        expired = counted(summary.waivers_expired, "finding")
        lines.append(f"- **Expired waivers:** {expired} counted again (their waiver expired)")
    if summary.hosts_unprivileged:
        lines.append(f"- **Audited without root:** {md(', '.join(summary.hosts_unprivileged))}")
    return "\n".join(lines)


def _findings(title: str, findings: tuple[Finding, ...]) -> str:
    """The active findings, or "None."; a finding whose waiver has expired says so before its
    message (it counts again, and must not read as new)."""
    if not findings:
        return f"### {title}\n\nNone."
    rows = [
        "| Severity | Host | Rule | Listener | Process | Message |",
        "|---|---|---|---|---|---|",
    ]
    rows += [f"{_finding_cells(f)} {md(f.expired_waiver_note + f.message)} |" for f in findings]
    return f"### {title}\n\n" + "\n".join(rows)


def _waived(findings: tuple[Finding, ...]) -> str:
    """Findings an unexpired waiver covers, with the waiver's reason, ticket and expiry: a
    reviewer judges the accepted risk from the report alone."""
    if not findings:
        return ""
    rows = [
        "| Severity | Host | Rule | Listener | Process | Message | Reason | Ticket | Expires |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    rows += [
        f"{_finding_cells(f)} {md(f.message)} | {md(w.reason)} | {md(w.ticket)} | {w.expires} |"
        for f in findings
        if (w := f.waiver) is not None
    ]
    return "### Waived findings\n\n" + "\n".join(rows)


def _finding_cells(f: Finding) -> str:
    """The row's cells up to the message, with the separator before it."""
    listener = f.socket.listener if f.socket else ""
    return (
        f"| {f.severity.value} | {md(f.host)} | {md(f.rule_id)} | "
        f"{md(listener)} | {md(f.process)} |"
    )


def _failed_hosts(run: RunResult) -> str:
    if not run.failed_hosts:
        return ""
    rows = ["| Host | Status | Detail |", "|---|---|---|"]
    rows += [f"| {md(s.host)} | {s.status.value} | {md(s.error)} |" for s in run.failed_hosts]
    return "### Hosts not audited\n\n" + "\n".join(rows)
