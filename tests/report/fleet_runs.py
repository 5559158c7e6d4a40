"""Runs as the auditor builds them, for the report tests: the built-in policy (plus extra
policy text such as waivers) judges real snapshots, findings in report order."""

from __future__ import annotations

from datetime import date
from importlib import resources

from fleetaudit.model.host import HostSnapshot
from fleetaudit.model.run import RuleInfo, RunResult, in_report_order
from fleetaudit.policy.engine import evaluate
from fleetaudit.policy.loader import parse_policy
from tests.factories import run_result

TODAY = date(2026, 11, 24)


def judged_run(*snapshots: HostSnapshot, policy_extra: str = "") -> RunResult:
    """The run of ``snapshots`` judged by the built-in policy plus ``policy_extra``."""
    default = resources.files("fleetaudit").joinpath("data/default.yaml").read_text("utf-8")
    policy = parse_policy(default + policy_extra, "default+extra.yaml")
    findings = [f for s in snapshots for f in evaluate(s, policy, TODAY)]
    hosts, ordered = in_report_order(snapshots, findings)
    rules = tuple(RuleInfo.model_validate(rule, from_attributes=True) for rule in policy.rules)
    return run_result(hosts, ordered, rules=rules)
