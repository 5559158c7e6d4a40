"""The terminal report: hosts, findings by severity, fleet totals (tabulate).

Every string that came from a host goes through :func:`terminal_safe` before printing, and
none is cut silently: long findings are wrapped, and long host messages are printed whole
in HOST DETAILS (see :mod:`fleetaudit.report.host_details`).
"""

from __future__ import annotations

import re
import textwrap
from collections import Counter
from collections.abc import Sequence

from tabulate import tabulate

from fleetaudit.model.enums import BindScope, HostKeyPolicy, HostStatus, Severity
from fleetaudit.model.finding import Finding
from fleetaudit.model.host import HostSnapshot, split_privilege_note
from fleetaudit.model.run import RunResult
from fleetaudit.model.socket import Socket
from fleetaudit.report import host_details
from fleetaudit.report.escape import terminal_safe as safe
from fleetaudit.report.interface import Formatter
from fleetaudit.report.summary import Summary, host_keys_label, only_local_hosts, summarize
from fleetaudit.report.wrap import wrap

_MAX_CELL = 200
_HEADLINE_CELL = 72  # a waived host finding's headline: enough to tell its gap, no wider
"""Longest short field (host, address, process): a longer one is garbage, not a name."""
DEFAULT_WIDTH = 100
"""Columns the report is wrapped to when the caller does not know the terminal's width."""
_MIN_WRAP = 40
"""Narrowest a wrapped message column gets, however wide the other columns are."""
_LONGEST_WORD = 120
"""Longest word kept whole when wrapping; longer ones are split at the column's width."""
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _cell(text: str | None, longest: int = _MAX_CELL) -> str:
    shown = safe(text or "")
    return shown if len(shown) <= longest else shown[: longest - 3] + "..."


_COLOURS = {
    Severity.CRITICAL: "\x1b[1;37;41m",
    Severity.HIGH: "\x1b[1;31m",
    Severity.MEDIUM: "\x1b[33m",
    Severity.LOW: "\x1b[36m",
    Severity.INFO: "\x1b[2m",
}
_RESET = "\x1b[0m"
_TOP_SERVICES = 5


class TableFormatter(Formatter):
    """Plain-text tables for a human at a terminal. Severities are coloured only when
    ``colour`` is set (the CLI sets it for a terminal that allows it): files and mail get
    plain text. Long messages are wrapped to ``width`` columns, never cut: their end is
    often the part to act on."""

    def __init__(self, colour: bool = False, width: int = DEFAULT_WIDTH) -> None:
        self.colour = colour
        self.width = width

    def render(self, run: RunResult) -> str:
        """Warnings, hosts, findings, then totals."""
        summary = summarize(run)
        sections = [
            _warnings(run, summary, self.width),
            _hosts_section(run.snapshots, self.width),
            _findings_section(run.active_findings, self.colour, self.width),
            _waived_section(tuple(f for f in run.findings if f.waived), self.width),
            _rules_section(run.findings, self.width),
            _totals_section(run, summary),
        ]
        return "\n\n".join(s for s in sections if s) + "\n"


def _warnings(run: RunResult, summary: Summary, width: int = DEFAULT_WIDTH) -> str:
    """What to know before reading the rest (a partial run, unverified keys, hosts audited
    without root), each wrapped to ``width``."""
    lines: list[str] = []
    if run.interrupted_by is not None:
        lines.append(
            f"PARTIAL: the run was stopped by {run.interrupted_by}; hosts marked "
            "'interrupted' were not audited."
        )
    if run.host_key_policy is HostKeyPolicy.INSECURE and not only_local_hosts(run):
        lines.append(
            "WARNING: host keys were NOT verified (--insecure-no-host-key-check): "
            "any host could have been impersonated; these results prove nothing."
        )
    if summary.hosts_unprivileged:
        names = ", ".join(safe(n) for n in summary.hosts_unprivileged)
        hint = _root_hint(run, set(summary.hosts_unprivileged))
        lines.append(f"NOTE: audited without root, socket owners partly unknown: {names} {hint}.")
    wrapped = (wrap(line, width, subsequent_indent="  ") for line in lines)
    return "\n".join("\n".join(each) for each in wrapped)


def _root_hint(run: RunResult, hosts: set[str]) -> str:
    """How to get the owners the NOTE says are missing: saved captures (``check``, no SSH)
    have no login or become to change, only how they were taken. Live hosts carry the fix
    that fits their setup (become off, sudo's refusal, the tool) in their privilege note:
    one fix shared by them all is quoted, else each host's detail gives its own."""
    if run.host_key_policy is HostKeyPolicy.NOT_APPLICABLE:
        return "(take the captures as root, `sudo ss -tuanpe`, or pass --privileged if they were)"
    fixes = {
        split_privilege_note(s.privilege_note or "")[1] for s in run.snapshots if s.host in hosts
    }
    if len(fixes) == 1 and None not in fixes:
        return f"({safe(fixes.pop() or '')})"
    return "(each host's detail says why, and what would fix it)"


def _hosts_section(snapshots: tuple[HostSnapshot, ...], width: int) -> str:
    """The HOSTS table, its detail cells short, then HOST DETAILS with the full text of
    every cell that was cut and of every host not audited."""
    texts = [host_details.detail(s) for s in snapshots]
    details = host_details.collect(snapshots, texts)
    rows = [
        (
            _cell(s.host),
            s.status.value,
            s.tool.value if s.tool else "",
            s.privilege.value if s.privilege else "",
            len(s.listeners) if s.status is HostStatus.OK else "",
            details.cell(position, text),
        )
        for position, (s, text) in enumerate(zip(snapshots, texts, strict=True))
    ]
    headers = ("host", "status", "tool", "privilege", "listeners", "detail")
    table = tabulate(rows, headers=headers, tablefmt="simple", disable_numparse=True)
    block = host_details.render(details, width)
    return "HOSTS\n" + table + (f"\n\n{block}" if block else "")


def _severity(severity: Severity, colour: bool) -> str:
    label = severity.value.upper()
    return f"{_COLOURS[severity]}{label}{_RESET}" if colour else label


def _findings_section(
    findings: tuple[Finding, ...], colour: bool = False, width: int = DEFAULT_WIDTH
) -> str:
    """One row per finding, saying what is wrong (wrapped, not cut); why that is wrong and
    what to do is said once per rule, in RULES."""
    if not findings:
        return "FINDINGS\nnone"
    rows = [
        (
            _severity(f.severity, colour),
            _cell(f.host),
            f.rule_id,
            _cell(f.socket.endpoint if f.socket else ""),
            _cell(f.socket.proto.value if f.socket else ""),
            _cell(f.process),
            safe(_with_expired_waiver(f)),
        )
        for f in findings
    ]
    headers = ("severity", "host", "rule", "local address", "proto", "process", "message")
    table = _wrapped_table(rows, headers, width)
    return f"FINDINGS ({len(findings)})\n{table}"


def _wrapped_table(rows: Sequence[tuple[str, ...]], headers: tuple[str, ...], width: int) -> str:
    """A simple table whose last column is wrapped so that lines fit ``width`` columns
    where the other columns leave room (never narrower than :data:`_MIN_WRAP`). Words are
    not split (a rule id, path or address stays whole for copying and grepping) unless
    longer than :data:`_LONGEST_WORD`; the text is already escaped, so its only line breaks
    are the ones added here."""
    # tabulate pads each header by 2 and separates columns by 2 spaces.
    others = sum(
        max(len(header) + 2, *(len(_ANSI.sub("", row[i])) for row in rows)) + 2
        for i, header in enumerate(headers[:-1])
    )
    wrap = max(_MIN_WRAP, width - others)
    wrapped = [(*row[:-1], _wrap(row[-1], wrap)) for row in rows]
    return tabulate(wrapped, headers=headers, tablefmt="simple", disable_numparse=True)


def _wrap(text: str, width: int) -> str:
    # A 10,000-character process name a hostile host chose would make a 10,000-column
    # line; a real word (a fingerprint, a path) is far shorter than _LONGEST_WORD.
    absurd = any(len(word) > _LONGEST_WORD for word in text.split())
    lines = wrap(text, width, break_long_words=absurd, break_on_hyphens=False)
    return "\n".join(lines)


def _with_expired_waiver(finding: Finding) -> str:
    return finding.expired_waiver_note + finding.headline


def _waived_section(waived: tuple[Finding, ...], width: int = DEFAULT_WIDTH) -> str:
    """One row per waived finding with the listener and program the waiver hides (or the
    headline of a finding about the whole host), the waiver's end, ticket (where the risk
    was accepted: what a reviewer looks up) and reason, the reason wrapped like a message."""
    if not waived:
        return ""
    rows = [
        (
            f.severity.value,
            _cell(f.host),
            f.rule_id,
            # a host finding's headline says what is waived (QA: coverage gaps looked alike)
            _cell(f.socket.listener) if f.socket else _cell(f.headline, _HEADLINE_CELL),
            _cell(f.process),
            str(f.waiver.expires) if f.waiver else "",
            _cell(f.waiver.ticket if f.waiver else ""),
            safe(f.waiver.reason if f.waiver else ""),
        )
        for f in waived
    ]
    headers = ("severity", "host", "rule", "listener", "process", "until", "ticket", "reason")
    table = _wrapped_table(rows, headers, width)
    return f"WAIVED ({len(waived)}, not counted in the exit code)\n{table}"


def _rules_section(findings: tuple[Finding, ...], width: int) -> str:
    """Each rule that fired, once, with why it matters and the fix, as the findings'
    messages give them: a fleet with 300 copies of one finding reads its advice once."""
    explained: dict[str, str] = {}
    for finding in findings:
        if finding.explanation and finding.rule_id not in explained:
            explained[finding.rule_id] = finding.explanation
    entries = [
        f"{rule_id}\n{textwrap.indent(_wrap(safe(text), width - 4), '    ')}"
        for rule_id, text in explained.items()
    ]
    return "RULES (why each matters, and the fix)\n" + "\n".join(entries) if entries else ""


def _top_services(run: RunResult) -> str:
    """The services listening beyond loopback on the most hosts, fleet-wide, by program (so
    netstat's ``sshd: /usr/sbi`` counts as ``sshd``; the programs sharing one socket joined
    by ``+``, as the list is joined by commas), and how many others do."""
    audited = [snapshot for snapshot in run.snapshots if snapshot.status is HostStatus.OK]
    counts: Counter[str] = Counter()
    for snapshot in audited:
        counts.update(
            {
                "+".join(socket.program_names) or _nameless(socket)
                for socket in snapshot.listeners
                if socket.bind_scope is not BindScope.LOOPBACK
            }
        )
    top = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:_TOP_SERVICES]
    if len(audited) == 1:
        shown = ", ".join(safe(name) for name, _ in top)
    else:  # "sshd on 6 hosts, nginx on 3 (of 6 audited)": the first says what counts
        shown = ", ".join(
            f"{safe(name)} on {count}{' host' + 's' * (count > 1) if not index else ''}"
            for index, (name, count) in enumerate(top)
        )
    if len(counts) > len(top):
        shown += f" and {len(counts) - len(top)} more"
    if top and len(audited) > 1:
        shown += f" (of {len(audited)} audited)"
    return shown


def _nothing_exposed(summary: Summary) -> str:
    return "none beyond loopback" if summary.hosts_audited else "unknown: no host audited"


def _nameless(socket: Socket) -> str:
    """A listener without a process name, by port: a kernel socket when the owner was
    visible, else one nobody could name."""
    return f"port {socket.local_port} ({'no process' if socket.owner_known else 'owner unknown'})"


def _totals_section(run: RunResult, summary: Summary) -> str:
    failed = summary.hosts_total - summary.hosts_audited
    by_severity = ", ".join(f"{n} {sev}" for sev, n in summary.findings_by_severity.items() if n)
    scopes = ", ".join(f"{n} {scope}" for scope, n in summary.listeners_by_scope.items() if n)
    rows = [
        ("hosts", f"{summary.hosts_total} ({summary.hosts_audited} audited, {failed} not audited)"),
        ("listeners", f"{summary.listeners} ({scopes or 'none'})"),
        ("exposed", _cell(_top_services(run) or _nothing_exposed(summary))),
        ("findings", f"{len(run.active_findings)} ({by_severity or 'none'})"),
        ("policy", _cell(f"{run.policy_name} ({run.policy_source})")),
        ("host keys", host_keys_label(run)),
        ("run", f"{run.run_id}, {_duration((run.finished_at - run.started_at).total_seconds())}"),
    ]
    if summary.findings_waived or summary.waivers_expired:
        waived = f"{summary.findings_waived} waived, {summary.waivers_expired} with expired waivers"
        rows.append(("waivers", waived))
    if summary.parse_errors:
        rows.append(("unparsed lines", str(summary.parse_errors)))
    return "TOTALS\n" + tabulate(rows, tablefmt="plain", disable_numparse=True)


def _duration(seconds: float) -> str:
    """``12.3s``; a run under 0.1 s in hundredths (``0.02s``), and ``<0.01s`` below that,
    so that a fast run never reads as having taken no time at all (``0.0s``)."""
    if seconds >= 0.1:
        return f"{seconds:.1f}s"
    return f"{seconds:.2f}s" if seconds >= 0.01 else "<0.01s"
