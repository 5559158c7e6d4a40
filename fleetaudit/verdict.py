"""A finished run's verdict: the exit code it deserves, and why when it is an error.

Errors outrank findings: a run that could not see part of the fleet must not read as clean.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass

from fleetaudit.errors import ExitCode, InputError
from fleetaudit.model.enums import HostStatus, Severity
from fleetaudit.model.host import HostSnapshot
from fleetaudit.model.run import RunResult
from fleetaudit.report.summary import counted


@dataclass(frozen=True, slots=True)
class UnreachableLimit:
    """How many hosts that could not be reached a run may have without being an error
    (``--max-unreachable``): a count, or a percentage of the run's hosts.

    ``--allow-unreachable`` accepts any number of them, so an outage that cuts the audit off
    from half the fleet reads like a normal night; a limit accepts the few hosts that are
    always down in a large fleet and still fails the night when many more are.
    """

    count: int | None = None
    percent: float | None = None
    text: str = ""
    """The limit as the operator wrote it, for messages (``4.999999%`` must not read 5%)."""

    @classmethod
    def parse(cls, text: str) -> UnreachableLimit:
        """``"5"`` (hosts) or ``"2%"`` / ``"0.5%"`` (of the run's hosts); InputError
        otherwise."""
        found = _LIMIT.fullmatch(text.strip())
        if found is None:
            raise InputError(
                f"--max-unreachable {text!r}: give a number of hosts (5) or a percentage (2%)"
            )
        number, percent = found.groups()
        written = text.strip()
        if not percent:
            return cls(count=int(number), text=written)
        share = float(number)
        if share > 100:
            raise InputError(f"--max-unreachable {text!r}: a percentage is at most 100%")
        return cls(percent=share, text=written)

    def allowed(self, hosts: int) -> int:
        """The number of unreached hosts accepted in a run of ``hosts`` hosts (a percentage
        rounds down: 2% of 120 hosts accepts 2, not 3)."""
        if self.count is not None:
            return self.count
        # The epsilon undoes binary rounding: 1.15% of 100,000 is 1149.9999999999998.
        return math.floor((self.percent or 0.0) * hosts / 100 + 1e-9)

    def __str__(self) -> str:
        if self.text:
            return self.text
        return str(self.count) if self.count is not None else f"{self.percent:g}%"


_LIMIT = re.compile(r"([0-9]{1,9}|[0-9]{1,3}(?:\.[0-9]{1,6})?(?=%))(%?)")
"""ASCII digits only: ``\\d`` would take other scripts' digits (``５``)."""


def verdict(
    run: RunResult,
    fail_on: Severity | None,
    *,
    allow_unreachable: bool = False,
    max_unreachable: UnreachableLimit | None = None,
) -> ExitCode:
    """The exit code a run deserves: 2 when :func:`error_reason` names an error, else 1 if
    any finding is at or above ``fail_on`` (never when it is None), else 0. Errors outrank
    findings: a run that could not see part of the fleet must not read as clean."""
    reason = error_reason(run, allow_unreachable=allow_unreachable, max_unreachable=max_unreachable)
    if reason is not None:
        return ExitCode.ERROR
    if fail_on is not None and run.findings_at_or_above(fail_on):
        return ExitCode.FINDINGS
    return ExitCode.CLEAN


def error_reason(
    run: RunResult,
    *,
    allow_unreachable: bool = False,
    max_unreachable: UnreachableLimit | None = None,
) -> str | None:
    """Why ``run`` is an error (exit 2), in words for the operator's summary; None if it is not.

    ``allow_unreachable`` accepts only hosts that could not be reached
    (:attr:`HostStatus.unreachable`): a changed host key or a refused audit key stays an
    error, and the reason names the statuses the flag did not accept, so a cron mail says
    what to look at. ``max_unreachable`` accepts them as well, but only up to its limit
    (it implies ``allow_unreachable``). A run that audited no host at all is an error even
    with them: nothing seen can never read as clean. The exception is a shard
    (``run --shard K/N``) that holds no host: with fewer hosts than shards some shards are
    empty by construction, and ``merge``, which judges the whole fleet, stays the gate.
    """
    failed = run.failed_hosts
    if not run.snapshots:
        return None if run.shard is not None else "no host audited (the run held no host)"
    if len(failed) == len(run.snapshots):
        return "no host audited"
    refused = [s for s in failed if not s.status.unreachable]
    accepting = allow_unreachable or max_unreachable is not None
    if failed and not accepting:
        hint = (
            f"--allow-unreachable would not accept {_statuses(refused)}"
            if refused
            else "--allow-unreachable accepts that"
        )
        return f"{counted(len(failed), 'host')} not audited ({hint})"
    flag = "--allow-unreachable" if max_unreachable is None else "--max-unreachable"
    reasons = []
    if refused:
        reasons.append(
            f"{counted(len(refused), 'host')} not audited for reasons {flag} "
            f"does not accept ({_statuses(refused)})"
        )
    unreached = len(failed) - len(refused)
    if max_unreachable is not None:
        allowed = max_unreachable.allowed(len(run.snapshots))
        if unreached > allowed:
            # a percentage says what it came to; a count is what it says
            share = (
                "" if max_unreachable.count is not None else f" ({allowed} of {len(run.snapshots)})"
            )
            reasons.append(
                f"{counted(unreached, 'host')} could not be reached, more than "
                f"--max-unreachable {max_unreachable} accepts{share}"
            )
    # Both when both hold: fixing the one named would otherwise still leave exit 2.
    return "; and ".join(reasons) or None


def _statuses(snapshots: Iterable[HostSnapshot]) -> str:
    """The distinct statuses of ``snapshots``, in HostStatus order: ``"auth_failed,
    host_key_changed"``."""
    present = {s.status for s in snapshots}
    return ", ".join(status.value for status in HostStatus if status in present)
