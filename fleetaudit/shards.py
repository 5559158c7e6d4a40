"""Sharding a fleet over several runs, and merging the shards' reports back into one run.

``--shard K/N`` keeps the hosts whose name hashes to K (1-based) modulo N: deterministic
across machines and Python versions (SHA-256, not ``hash()``), so N parallel runs (pods of a
Kubernetes Indexed Job, AWX slices) cover every host exactly once. ``merge`` turns their JSON
reports into the report one unsharded run would have written.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from fleetaudit.errors import InputError
from fleetaudit.inventory.model import Host
from fleetaudit.model.run import RunResult, in_report_order


def parse_shard(text: str) -> tuple[int, int]:
    """``"2/5"`` -> ``(2, 5)``; InputError unless 1 <= K <= N."""
    index, slash, count = text.partition("/")
    if not slash or not index.isdigit() or not count.isdigit():
        raise InputError(f"--shard {text!r}: write K/N, e.g. 2/5")
    k, n = int(index), int(count)
    if not 1 <= k <= n:
        raise InputError(f"--shard {text!r}: K must be between 1 and N")
    return k, n


def shard_of(name: str, count: int) -> int:
    """The 1-based shard of host ``name`` among ``count``."""
    digest = hashlib.sha256(name.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % count + 1


def select_shard(hosts: Sequence[Host], index: int, count: int) -> tuple[Host, ...]:
    """The hosts of shard ``index`` of ``count``."""
    return tuple(host for host in hosts if shard_of(host.name, count) == index)


def merge_runs(runs: Sequence[RunResult]) -> RunResult:
    """One run from the shards' runs: every host once, findings in report order."""
    if not runs:
        raise InputError("merge needs at least one report")
    first = runs[0]
    for other in runs[1:]:
        if (other.policy_name, other.policy_source) != (first.policy_name, first.policy_source):
            raise InputError(
                f"run {other.run_id} used policy {other.policy_name!r}, "
                f"run {first.run_id} used {first.policy_name!r}: not shards of one audit"
            )
    names = [s.host for run in runs for s in run.snapshots]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise InputError(f"hosts in more than one report: {', '.join(twice[:10])}")
    hosts, findings = in_report_order(
        [s for run in runs for s in run.snapshots], [f for run in runs for f in run.findings]
    )
    return first.model_copy(
        update={
            "run_id": "+".join(sorted(run.run_id for run in runs)),
            "started_at": min(run.started_at for run in runs),
            "finished_at": max(run.finished_at for run in runs),
            "snapshots": hosts,
            "findings": findings,
        }
    )
