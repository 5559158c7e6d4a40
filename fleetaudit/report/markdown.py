"""Markdown: for change tickets and pull-request comments, the summary first.

Remote text is made inert: control characters are escaped, and ``|``, backticks, ``<``/``>``
and ``*``/``_`` cannot break the table or inject markup. Text in a code span is not
backslash-escaped (CommonMark shows the backslash there): :func:`md_code` fences it instead.
"""

from __future__ import annotations

import re

from fleetaudit.model.finding import Finding
from fleetaudit.model.run import RunResult
from fleetaudit.report.escape import terminal_safe
from fleetaudit.report.interface import Formatter
from fleetaudit.report.summary import counted, host_keys_label, summarize

_MARKUP = re.compile(r"([\\`*_{}\[\]<>|#!~])")
_BACKTICKS = re.compile(r"`+")


def md(text: str | None) -> str:
    """``text`` safe inside a Markdown table cell (outside a code span)."""
    return _MARKUP.sub(r"\\\1", terminal_safe(text or "")).replace("\n", " ")


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
        parts.append(_findings("Waived findings", tuple(f for f in run.findings if f.waived)))
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
        f"- **Host keys:** {host_keys_label(run.host_key_policy)}",
        f"- **Run:** {run.run_id}, {run.started_at:%Y-%m-%d %H:%M} UTC",
    ]
    if summary.hosts_unprivileged:
        lines.append(f"- **Audited without root:** {md(', '.join(summary.hosts_unprivileged))}")
    return "\n".join(lines)


def _findings(title: str, findings: tuple[Finding, ...]) -> str:
    if not findings:
        return "" if title.startswith("Waived") else f"### {title}\n\nNone."
    rows = [
        "| Severity | Host | Rule | Listener | Process | Message |",
        "|---|---|---|---|---|---|",
    ]
    rows += [
        f"| {f.severity.value} | {md(f.host)} | {md(f.rule_id)} | "
        f"{md(f.socket.endpoint if f.socket else '')} | {md(f.process)} | {md(f.message)} |"
        for f in findings
    ]
    return f"### {title}\n\n" + "\n".join(rows)


def _failed_hosts(run: RunResult) -> str:
    if not run.failed_hosts:
        return ""
    rows = ["| Host | Status | Detail |", "|---|---|---|"]
    rows += [f"| {md(s.host)} | {s.status.value} | {md(s.error)} |" for s in run.failed_hosts]
    return "### Hosts not audited\n\n" + "\n".join(rows)
