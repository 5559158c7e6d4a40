"""The end of every judging command (``run``, ``check``, ``merge``): the reports written,
the run recorded with the exit code the process really ends with, the hosts not audited
and one summary line said on stderr, and the exit."""

from __future__ import annotations

import signal
from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING

import typer

from fleetaudit.cli.console import error, not_audited_lines, say
from fleetaudit.cli.errors import BROKEN_PIPE, StdoutError, failure_code, silence_stdout
from fleetaudit.cli.reports import RunFacts, report_targets, write_reports
from fleetaudit.errors import ExitCode, FleetAuditError
from fleetaudit.model.enums import Severity
from fleetaudit.report import OutputFormat

if TYPE_CHECKING:
    from fleetaudit.model.run import RunResult
    from fleetaudit.verdict import UnreachableLimit


def finish(
    result: RunResult,
    format: OutputFormat,
    output: list[str] | None,
    fail_on: Severity | None,
    allow_unreachable: bool,
    *,
    record: Callable[[int], None] | None = None,
    retain: Callable[[], None] | None = None,
    last_success: datetime | None = None,
    whole_fleet: bool = True,
    signalled: bool = True,
    max_unreachable: UnreachableLimit | None = None,
) -> None:
    """Write the reports, ``record`` the run with the exit code the process really ends
    with (2, not the verdict, when a report cannot be written), say on stderr which hosts
    were not audited (bounded, one line per status) and then one summary line, and exit
    with the verdict. The summary stays the last line: scripts read it with ``tail -n 1``.

    From here on a first signal is deferred and a second ends the process at once; the
    history record gets a few seconds after a signal, not the minutes another process may
    hold the database for (:class:`AfterTheAudit`).
    A run the history could not record is said before the summary, which names the hosts
    not audited as always, and exits 2.

    ``signalled`` is False when ``result.interrupted_by`` is not this process's own signal
    (``merge`` of a stopped shard): then the exit code is the verdict, whose interrupted
    hosts make it 2, not 128 + a signal this process never received."""
    from fleetaudit.signals import AfterTheAudit, ignore_stop_signals
    from fleetaudit.verdict import error_reason, verdict

    judged = verdict(
        result, fail_on, allow_unreachable=allow_unreachable, max_unreachable=max_unreachable
    )
    code = exit_code(result, judged) if signalled else int(judged)
    reason = error_reason(
        result, allow_unreachable=allow_unreachable, max_unreachable=max_unreachable
    )
    stopped_by = result.interrupted_by if signalled else None

    def last_words(status: int) -> None:  # a signal ends the process while it records
        for line in not_audited_lines(result.failed_hosts):
            say(line)
        say(_summary_line(result, fail_on, None, status) + ": this run was not recorded")

    with AfterTheAudit(stopped_by=stopped_by) as late:
        try:
            facts = RunFacts(int(code), last_success, whole_fleet)
            write_reports(result, format, output, facts)
        except BaseException as exc:
            if record is not None:
                late.recording(partial(record, failure_code(exc)), last_words)
            if not _said_with_the_summary(exc):
                raise
            code, record, retain = failure_code(exc), None, None  # recorded above
            unwritten = "a report could not be written"
            reason = f"{reason}; {unwritten}" if reason else unwritten
        if record is not None:
            try:
                late.recording(partial(record, code), last_words)
            except FleetAuditError as exc:
                error(str(exc))
                unrecorded = "the history could not record this run"
                code, reason = (
                    failure_code(exc),
                    f"{reason}; {unrecorded}" if reason else unrecorded,
                )
            else:
                if retain is not None:
                    late.retention(retain)
        if result.interrupted_by is not None:
            # a merge (not signalled) was not stopped itself: one of its shards was
            stopped = "interrupted" if signalled else "a shard was interrupted"
            say(f"{stopped} by {result.interrupted_by}: {_partial(format, output)}")
        for line in not_audited_lines(result.failed_hosts):
            say(line)
        say(_summary_line(result, fail_on, reason, code))
    ignore_stop_signals()  # said and recorded: a signal now must not change the exit status
    raise typer.Exit(int(code))


def _said_with_the_summary(exc: BaseException) -> bool:
    """Say a report that could not be written (a full disk, a directory gone), and go on to
    the hosts not audited and the summary line, which cron mails and scripts read: True.
    False for what ends the run as it stands: a reader of stdout that went away (a quiet
    141, as for every command), an interrupt, a bug."""
    if not isinstance(exc, FleetAuditError) or failure_code(exc) == BROKEN_PIPE:
        return False
    error(str(exc))
    if isinstance(exc, StdoutError):
        silence_stdout()  # Python's flush at exit would fail on it again
    return True


def _partial(format: OutputFormat, output: list[str] | None) -> str:
    """Which reports are partial: "the report above" is true only of stdout."""
    targets = [str(path or "stdout") for _, path in report_targets(format, output)]
    if targets == ["stdout"]:
        return "the report above is partial"
    if len(targets) == 1:
        return f"the report written to {targets[0]} is partial"
    return f"the reports written to {', '.join(targets)} are partial"


def _summary_line(
    result: RunResult, fail_on: Severity | None, reason: str | None, code: int
) -> str:
    """The one line cron mails: hosts, findings, exit code, and why an error is one."""
    from fleetaudit.report.summary import counted

    failed = len(result.failed_hosts)
    gate = (
        ""
        if fail_on is None
        else f", {len(result.findings_at_or_above(fail_on))} at or above {fail_on.value}"
    )
    why = f": {reason}" if reason is not None and code == ExitCode.ERROR else ""
    return (
        f"{counted(len(result.snapshots), 'host')}, {len(result.snapshots) - failed} audited, "
        f"{failed} not audited, {counted(len(result.active_findings), 'finding')}{gate}; "
        f"exit {int(code)}{why}"
    )


def exit_code(result: RunResult, verdict_code: int) -> int:
    """The verdict, or 128 + the signal number when the run was stopped by a signal (130 for
    SIGINT, 143 for SIGTERM), as shells report it."""
    if result.interrupted_by is None:
        return verdict_code
    return 128 + int(signal.Signals[result.interrupted_by])
