"""Prometheus text exposition for node_exporter's textfile collector.

Write it with ``--output /var/lib/node_exporter/textfile/fleetaudit.prom``: the file is
replaced atomically, so the collector never reads half of it.

Because the file is replaced each run, a value that must outlive a run (when a run last
audited every host) has to come from elsewhere: the history, given as ``last_success``.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from fleetaudit.model.enums import BindScope, HostStatus, Severity
from fleetaudit.model.run import RunResult
from fleetaudit.report.interface import Formatter
from fleetaudit.report.summary import unverified_hosts


def label(value: str) -> str:
    """A label value escaped as the exposition format requires."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


class PromFormatter(Formatter):
    """Findings by severity and rule, hosts by status, listeners by scope, timings."""

    def __init__(self, last_success: datetime | None = None, whole_fleet: bool = True) -> None:
        self.last_success = last_success
        """When an earlier run last audited every host (from the history): written when
        this run did not, so that a ``time() - metric`` alert keeps counting instead of
        going silent on the very nights it is for."""
        self.whole_fleet = whole_fleet
        """False when the run covered part of the inventory (--limit, --shard): then even
        a run that audited all its hosts leaves the last full success to the history."""

    def render(self, run: RunResult) -> str:
        """The metrics text."""
        out: list[str] = []
        severities = Counter(f.severity for f in run.active_findings)
        _family(out, "fleetaudit_findings", "Active (unwaived) findings by severity.")
        out += [f'fleetaudit_findings{{severity="{s.value}"}} {severities[s]}' for s in Severity]
        waived = Counter(f.severity for f in run.findings if f.waived)
        help_text = "Findings an unexpired waiver covers (not in the exit code), by severity."
        _family(out, "fleetaudit_waived_findings", help_text)
        out += [f'fleetaudit_waived_findings{{severity="{s.value}"}} {waived[s]}' for s in Severity]
        expired = sum(1 for f in run.findings if f.waiver is not None and f.waiver.expired)
        help_text = "Active findings whose waiver has expired (counted again)."
        _family(out, "fleetaudit_expired_waiver_findings", help_text)
        out.append(f"fleetaudit_expired_waiver_findings {expired}")
        # every rule of the policy at every severity (a rule may report at others than its
        # own: coverage's unread_severity), 0 when it found nothing: a series that
        # vanished when its last finding was fixed left alerts on it with "no data"
        by_rule = Counter({(r.id, sev.value): 0 for r in run.rules for sev in Severity})
        by_rule.update((f.rule_id, f.severity.value) for f in run.active_findings)
        _family(out, "fleetaudit_rule_findings", "Active findings by rule.")
        out += [
            f'fleetaudit_rule_findings{{rule="{label(rule)}",severity="{sev}"}} {n}'
            for (rule, sev), n in sorted(by_rule.items())
        ]
        statuses = Counter(s.status for s in run.snapshots)
        _family(out, "fleetaudit_hosts", "Hosts by audit status.")
        out += [f'fleetaudit_hosts{{status="{st.value}"}} {statuses[st]}' for st in HostStatus]
        scopes = Counter(sock.bind_scope for s in run.snapshots for sock in s.listeners)
        _family(out, "fleetaudit_listeners", "Listening sockets by bind scope.")
        out += [f'fleetaudit_listeners{{scope="{sc.value}"}} {scopes[sc]}' for sc in BindScope]
        duration = (run.finished_at - run.started_at).total_seconds()
        _family(out, "fleetaudit_run_duration_seconds", "Wall time of the run.")
        out.append(f"fleetaudit_run_duration_seconds {duration:.3f}")
        _family(out, "fleetaudit_run_timestamp_seconds", "When the run finished.")
        out.append(f"fleetaudit_run_timestamp_seconds {run.finished_at.timestamp():.0f}")
        help_text = "Hosts audited over SSH without verifying their host key."
        _family(out, "fleetaudit_hosts_host_key_unverified", help_text)
        out.append(f"fleetaudit_hosts_host_key_unverified {len(unverified_hosts(run))}")
        _family(out, "fleetaudit_run_success", "1 when every host was audited, else 0.")
        out.append(f"fleetaudit_run_success {0 if run.failed_hosts else 1}")
        full = self.whole_fleet and not run.failed_hosts
        # The later of this run and the history's: a night merged again days later must
        # not turn the clock back past a newer full audit.
        known = [when for when in (run.finished_at if full else None, self.last_success) if when]
        if known:
            last = max(known)
            help_text = "When a run last audited every host."
            _family(out, "fleetaudit_last_success_timestamp_seconds", help_text)
            out.append(f"fleetaudit_last_success_timestamp_seconds {last.timestamp():.0f}")
        return "\n".join(out) + "\n"


def _family(out: list[str], name: str, help_text: str) -> None:
    out += [f"# HELP {name} {help_text}", f"# TYPE {name} gauge"]
