"""A finished run's verdict: the exit code it deserves, and why when it is an error.

Errors outrank findings: a run that could not see part of the fleet must not read as clean.
"""

from __future__ import annotations

from collections.abc import Iterable

from fleetaudit.errors import ExitCode
from fleetaudit.model.enums import HostStatus, Severity
from fleetaudit.model.host import HostSnapshot
from fleetaudit.model.run import RunResult
from fleetaudit.report.summary import counted


def verdict(
    run: RunResult, fail_on: Severity | None, *, allow_unreachable: bool = False
) -> ExitCode:
    """The exit code a run deserves: 2 when :func:`error_reason` names an error, else 1 if
    any finding is at or above ``fail_on`` (never when it is None), else 0. Errors outrank
    findings: a run that could not see part of the fleet must not read as clean."""
    if error_reason(run, allow_unreachable=allow_unreachable) is not None:
        return ExitCode.ERROR
    if fail_on is not None and run.findings_at_or_above(fail_on):
        return ExitCode.FINDINGS
    return ExitCode.CLEAN


def error_reason(run: RunResult, *, allow_unreachable: bool = False) -> str | None:
    """Why ``run`` is an error (exit 2), in words for the operator's summary; None if it is not.

    ``allow_unreachable`` accepts only hosts that could not be reached
    (:attr:`HostStatus.unreachable`): a changed host key or a refused audit key stays an
    error, and the reason names the statuses the flag did not accept, so a cron mail says
    what to look at. A run that audited no host at all is an error even with
    ``allow_unreachable``: nothing seen can never read as clean. The exception is a shard
    (``run --shard K/N``) that holds no host: with fewer hosts than shards some shards are
    empty by construction, and ``merge``, which judges the whole fleet, stays the gate.
    """
    failed = run.failed_hosts
    if not run.snapshots:
        return None if run.shard is not None else "no host audited (the run held no host)"
    if len(failed) == len(run.snapshots):
        return "no host audited"
    refused = [s for s in failed if not s.status.unreachable]
    if failed and not allow_unreachable:
        hint = (
            f"--allow-unreachable would not accept {_statuses(refused)}"
            if refused
            else "--allow-unreachable accepts that"
        )
        return f"{counted(len(failed), 'host')} not audited ({hint})"
    if refused:
        return (
            f"{counted(len(refused), 'host')} not audited for reasons --allow-unreachable "
            f"does not accept ({_statuses(refused)})"
        )
    return None


def _statuses(snapshots: Iterable[HostSnapshot]) -> str:
    """The distinct statuses of ``snapshots``, in HostStatus order: ``"auth_failed,
    host_key_changed"``."""
    present = {s.status for s in snapshots}
    return ", ".join(status.value for status in HostStatus if status in present)
