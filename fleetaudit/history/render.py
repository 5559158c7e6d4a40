"""A run diff as text (terminal), JSON, or Markdown (for the change ticket)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime

from tabulate import tabulate

from fleetaudit.history.diff import FindingChange, RunDiff
from fleetaudit.history.diff_notes import absent_note, policy_note, release_note
from fleetaudit.history.host_lines import host_lines, utc
from fleetaudit.model.enums import HostStatus
from fleetaudit.model.finding import Finding
from fleetaudit.report import DiffFormat
from fleetaudit.report.escape import terminal_safe
from fleetaudit.report.markdown import md, md_code


def render_diff(diff: RunDiff, fmt: DiffFormat) -> str:
    """``diff`` in ``fmt``, ending with a newline."""
    if fmt is DiffFormat.JSON:
        return json.dumps(diff.model_dump(mode="json"), indent=2) + "\n"
    if fmt is DiffFormat.MARKDOWN:
        return _markdown(diff)
    return _table(diff)


def _finding_rows(
    findings: tuple[Finding, ...], escape: Callable[[str], str]
) -> list[tuple[str, ...]]:
    return [
        (
            f.severity.value,
            escape(f.host),
            f.rule_id,
            escape(f.socket.listener if f.socket else ""),
            escape(f.process),
        )
        for f in findings
    ]


def _change_rows(
    changes: tuple[FindingChange, ...], escape: Callable[[str], str]
) -> list[tuple[str, ...]]:
    return [
        (
            _what_changed(c),
            escape(c.after.host),
            c.after.rule_id,
            escape(c.after.socket.listener if c.after.socket else ""),
            escape(c.after.process),
        )
        for c in changes
    ]


def _what_changed(change: FindingChange) -> str:
    before, after = change.before, change.after
    parts = []
    if before.severity is not after.severity:
        parts.append(f"{before.severity.value} -> {after.severity.value}")
    if after.waived and after.waiver is not None:
        parts.append(f"now waived until {after.waiver.expires}")
    elif before.waived:
        expired = after.waiver is not None and after.waiver.expired
        why = f"waiver expired {after.waiver.expires}" if expired and after.waiver else "no waiver"
        parts.append(f"no longer waived ({why})")
    return ", ".join(parts)


def _facts(started_at: datetime, exit_code: int | None, interrupted_by: str | None) -> str:
    """When a run started and how it ended: a diff whose newer side is days old, or a run
    that exited 2 or was stopped half-way, must be visible as such."""
    code = "" if exit_code is None else f", exit {exit_code}"
    # A signal name (SIGTERM): anything else, from a crafted file, is dropped, so the text
    # is safe on a terminal and in Markdown alike.
    signal = "".join(ch for ch in interrupted_by or "" if ch.isascii() and ch.isalnum())
    stopped = "" if interrupted_by is None else f", stopped by {signal or 'a signal'}"
    return f"started {utc(started_at)}{code}{stopped}"


def _sides(diff: RunDiff) -> tuple[tuple[str, str], tuple[str, str]]:
    """Each run's id and :func:`_facts`, older first."""
    return (
        (
            diff.before,
            _facts(diff.before_started_at, diff.before_exit_code, diff.before_interrupted_by),
        ),
        (
            diff.after,
            _facts(diff.after_started_at, diff.after_exit_code, diff.after_interrupted_by),
        ),
    )


def _unknown_note(diff: RunDiff, quote: Callable[[str], str]) -> str | None:
    """Why some hosts still read ``interrupted -> ...``: the older run was stopped before
    finishing them and nothing earlier tells their status (a diff of two files consults no
    history; ``exit_code`` is unknown exactly for a run read from a file)."""
    hosts = [
        c.host
        for c in diff.hosts
        if c.status_before is HostStatus.INTERRUPTED and c.status_after is not None
    ]
    if not hosts:
        return None
    where = (
        "a file diff consults no history"
        if diff.before_exit_code is None
        else "no earlier run in the history finished them"
    )
    return (
        f"{len(hosts)} host(s) read {quote('interrupted -> ...')}: the older run was "
        f"stopped before finishing them and {where}, so their status before is unknown"
    )


_UNJUDGED = "their rule is not in the newer policy; the listener may still be there"
_UNLISTED = (
    "the newer listing of the host is incomplete (lines it could not read, or cut short) "
    "and does not show them, so they are not known to be gone"
)
_UNCONFIRMED = (
    "the listener is still there, but the newer run could not name its process (audited "
    "without root?), so the rule could not judge it"
)


def _table(diff: RunDiff) -> str:
    files = diff.before_exit_code is None  # a run read from a file records no exit code
    (old, old_facts), (new, new_facts) = _sides(diff)
    head = f"DIFF {terminal_safe(old)} ({old_facts}) -> {terminal_safe(new)} ({new_facts})"
    if diff.before_chosen_because:
        head += f"\n{terminal_safe(diff.before_chosen_because)}"
    for note in (release_note(diff), policy_note(diff), absent_note(diff)):
        if note:
            head += f"\n{terminal_safe(note)}"
    if diff.empty:
        return f"{head}\nno change\n"
    headers = ("severity", "host", "rule", "listener", "process")
    sections = [head]
    for title, findings in (
        ("NEW FINDINGS", diff.new_findings),
        ("RESOLVED", diff.resolved_findings),
        (f"OWNER NOT SEEN: {_UNCONFIRMED}", diff.unconfirmed_findings),
        (f"NOT IN THE LISTING: {_UNLISTED}", diff.unlisted_findings),
        (f"NO LONGER JUDGED: {_UNJUDGED}", diff.unjudged_findings),
    ):
        if findings:
            rows = _finding_rows(findings, terminal_safe)
            table = tabulate(rows, headers=headers, disable_numparse=True)
            sections.append(f"{title} ({len(findings)})\n{table}")
    if diff.changed_findings:
        rows = _change_rows(diff.changed_findings, terminal_safe)
        table = tabulate(rows, headers=("change", *headers[1:]), disable_numparse=True)
        sections.append(f"CHANGED, STILL THERE ({len(diff.changed_findings)})\n{table}")
    if diff.hosts:
        blocks = [
            "\n".join(
                [
                    terminal_safe(c.host),
                    *("  " + terminal_safe(line) for line in host_lines(c, files)),
                ]
            )
            for c in diff.hosts
        ]
        note = _unknown_note(diff, lambda text: f"'{text}'")
        sections.append("HOSTS\n" + "\n".join(([terminal_safe(note)] if note else []) + blocks))
    return "\n\n".join(sections) + "\n"


def _markdown(diff: RunDiff) -> str:
    files = diff.before_exit_code is None
    (old, old_facts), (new, new_facts) = _sides(diff)
    lines = [
        f"## fleetaudit diff {md_code(old)} → {md_code(new)}",
        "",
        f"- **Before:** {md_code(old)}, {old_facts}",
        f"- **After:** {md_code(new)}, {new_facts}",
        *(
            [f"- **Compared with:** {md(diff.before_chosen_because)}"]
            if diff.before_chosen_because
            else []
        ),
        *([f"- **Releases:** {md(note)}"] if (note := release_note(diff)) else []),
        *([f"- **Policy:** {md(note)}"] if (note := policy_note(diff)) else []),
        *([f"- **Hosts:** {md(absent)}"] if (absent := absent_note(diff)) else []),
        f"- **New findings:** {len(diff.new_findings)}",
        f"- **Resolved findings:** {len(diff.resolved_findings)}",
        f"- **Changed findings (still there):** {len(diff.changed_findings)}",
        *(
            [f"- **Owner not seen (not resolved):** {len(diff.unconfirmed_findings)}"]
            if diff.unconfirmed_findings
            else []
        ),
        *(
            [f"- **Not in the incomplete listing (not resolved):** {len(diff.unlisted_findings)}"]
            if diff.unlisted_findings
            else []
        ),
        *(
            [f"- **No longer judged:** {len(diff.unjudged_findings)}"]
            if diff.unjudged_findings
            else []
        ),
        f"- **Hosts changed:** {len(diff.hosts)}",
    ]
    for title, findings in (
        ("New findings", diff.new_findings),
        ("Resolved", diff.resolved_findings),
        (f"Owner not seen: {_UNCONFIRMED}", diff.unconfirmed_findings),
        (f"Not in the listing: {_UNLISTED}", diff.unlisted_findings),
        (f"No longer judged: {_UNJUDGED}", diff.unjudged_findings),
    ):
        if findings:
            lines += ["", f"### {title}", "", "| Severity | Host | Rule | Listener | Process |"]
            lines.append("|---|---|---|---|---|")
            lines += ["| " + " | ".join(row) + " |" for row in _finding_rows(findings, md)]
    if diff.changed_findings:
        lines += [
            "",
            "### Changed, still there",
            "",
            "| Change | Host | Rule | Listener | Process |",
        ]
        lines.append("|---|---|---|---|---|")
        rows = _change_rows(diff.changed_findings, md)
        lines += ["| " + " | ".join(row) + " |" for row in rows]
    if diff.hosts:
        lines += ["", "### Hosts", ""]
        if note := _unknown_note(diff, md_code):  # no text from the runs: nothing to escape
            lines += [note, ""]
        for change in diff.hosts:
            lines.append(f"- **{md(change.host)}**")
            lines += [f"  - {md_code(line)}" for line in host_lines(change, files)]
    return "\n".join(lines) + "\n"
