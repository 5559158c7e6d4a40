"""Sharding a fleet over several runs, and merging the shards' reports back into one run.

``--shard K/N`` keeps the hosts whose name hashes to K (1-based) modulo N: deterministic
across machines and Python versions (SHA-256, not ``hash()``), so N parallel runs (pods of a
Kubernetes Indexed Job, AWX slices) cover every host exactly once. ``merge`` turns their JSON
reports into the report one unsharded run would have written.

A shard's report records its K/N and a digest of the whole selection (:class:`ShardInfo`),
so ``merge`` refuses a set with a shard missing or repeated, or shards of different splits
or inventories: a merged report that silently lacks a third of the fleet would read as
clean. Reports without shard information (older releases, ``check``) merge as before.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from fleetaudit.errors import InputError
from fleetaudit.inventory.model import Host
from fleetaudit.model.run import RunResult, ShardInfo, in_report_order
from fleetaudit.report.summary import counted


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


def empty_shard_message(index: int, count: int, selected: int) -> str:
    """Why shard ``index`` of ``count`` audits nothing: with fewer hosts than shards, some
    shards are empty by construction. Such a run is not an error (a pod of an Indexed Job
    must not fail for it); ``merge`` of all N reports judges the fleet."""
    return f"shard {index}/{count} holds no host ({counted(selected, 'host')} in {count} shards)"


def shard_info(hosts: Sequence[Host], index: int, count: int) -> ShardInfo:
    """What a ``--shard index/count`` run of ``hosts`` (the selection before sharding)
    records in its report."""
    digest = hashlib.sha256("\n".join(sorted(h.name for h in hosts)).encode("utf-8"))
    return ShardInfo(index=index, count=count, hosts_digest=digest.hexdigest())


def merge_runs(runs: Sequence[RunResult], labels: Sequence[str] | None = None) -> RunResult:
    """One run from the shards' runs: every host once, findings in report order.

    ``labels`` name the runs in messages (their report files); by default their run ids.
    """
    if not runs:
        raise InputError("merge needs at least one report")
    names = list(labels) if labels is not None else [run.run_id for run in runs]
    _check_policies(runs, names)
    _check_shards(runs, names)
    hosts = [s.host for run in runs for s in run.snapshots]
    twice = sorted({n for n in hosts if hosts.count(n) > 1})
    if twice:
        raise InputError(f"hosts in more than one report: {', '.join(twice[:10])}")
    first = runs[0]
    snapshots, findings = in_report_order(
        [s for run in runs for s in run.snapshots], [f for run in runs for f in run.findings]
    )
    return first.model_copy(
        update={
            "run_id": "+".join(sorted(run.run_id for run in runs)),
            "started_at": min(run.started_at for run in runs),
            "finished_at": max(run.finished_at for run in runs),
            "snapshots": snapshots,
            "findings": findings,
            "shard": None,
        }
    )


def _check_policies(runs: Sequence[RunResult], names: Sequence[str]) -> None:
    """Every run judged by the same policy: same name, file and rules."""
    first = runs[0]
    for other, name in zip(runs[1:], names[1:], strict=True):
        if (other.policy_name, other.policy_source) != (first.policy_name, first.policy_source):
            raise InputError(
                f"{name} used policy {other.policy_name!r}, "
                f"{names[0]} used {first.policy_name!r}: not shards of one audit"
            )
        if other.rules != first.rules:
            raise InputError(
                f"{name} and {names[0]} used different versions of policy "
                f"{first.policy_name!r} (their rules differ): not shards of one audit"
            )


def _check_shards(runs: Sequence[RunResult], names: Sequence[str]) -> None:
    """All N shards of one split, each once, each holding only its own hosts; or no shard
    information at all (reports of whole runs, or of releases that did not record it)."""
    infos = [run.shard for run in runs]
    if all(info is None for info in infos):
        return
    if None in infos:
        bare = names[infos.index(None)]
        raise InputError(f"{bare} is not a shard report (no K/N) but the others are")
    shards = [info for info in infos if info is not None]
    first = shards[0]
    for info, name in zip(shards, names, strict=True):
        if info.count != first.count:
            raise InputError(
                f"{name} is shard {info.index}/{info.count}, {names[0]} is "
                f"{first.index}/{first.count}: not one split"
            )
        if info.hosts_digest != first.hosts_digest:
            raise InputError(
                f"{name} and {names[0]} sharded different host selections "
                "(another inventory or --limit): not shards of one audit"
            )
    _check_indexes(runs, names, first.count)


def _check_indexes(runs: Sequence[RunResult], names: Sequence[str], count: int) -> None:
    seen: dict[int, str] = {}
    for run, name in zip(runs, names, strict=True):
        assert run.shard is not None
        index = run.shard.index
        if index in seen:
            raise InputError(f"{seen[index]} and {name} are both shard {index}/{count}")
        seen[index] = name
        strays = [s.host for s in run.snapshots if shard_of(s.host, count) != index]
        if strays:
            raise InputError(f"{name} says shard {index}/{count} but holds host {strays[0]}")
    missing = [f"{k}/{count}" for k in range(1, count + 1) if k not in seen]
    if missing:
        raise InputError(f"shards missing: {', '.join(missing)} (merge needs all {count})")
