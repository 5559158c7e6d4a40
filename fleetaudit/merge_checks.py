"""Whether the reports given to ``merge`` can be the parts of one audit: judged by one
policy, started close together, all shards of one split each once, holding exactly the hosts
they were split from. Each check raises InputError naming the reports that disagree."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import timedelta

from fleetaudit.errors import InputError
from fleetaudit.model.run import RunResult
from fleetaudit.shards import hosts_digest, shard_of


def check_parts(runs: Sequence[RunResult], names: Sequence[str], max_spread: timedelta) -> None:
    """Refuse ``runs`` (named ``names`` in messages, in shard order) unless they are the
    parts of one audit: a merged report that silently lacks a shard would read as clean."""
    _check_policies(runs, names)
    _check_times(runs, names, max_spread)
    _check_shards(runs, names)
    held = Counter(s.host for run in runs for s in run.snapshots)
    twice = sorted(name for name, times in held.items() if times > 1)
    if twice:
        raise InputError(f"hosts in more than one report: {', '.join(twice[:10])}")
    _check_union(runs)


def _check_policies(runs: Sequence[RunResult], names: Sequence[str]) -> None:
    """Every run judged by the same policy: same name and the same rules and waivers (the
    digest of what was judged; the file's path may differ between machines)."""
    first = runs[0]
    for other, name in zip(runs[1:], names[1:], strict=True):
        if other.policy_name != first.policy_name:
            raise InputError(
                f"{name} used policy {other.policy_name!r} ({other.policy_source}), "
                f"{names[0]} used {first.policy_name!r} ({first.policy_source}): "
                "not shards of one audit"
            )
        if other.rules != first.rules or _digests_differ(first, other):
            raise InputError(
                f"{name} and {names[0]} used different versions of policy "
                f"{first.policy_name!r} ({_sources(other, first)}; "
                f"{_policy_difference(first, other)}): not shards of one audit"
            )


def _digests_differ(one: RunResult, other: RunResult) -> bool:
    """Both reports recorded a policy digest and they differ (older reports have none:
    their rules alone are compared)."""
    return None not in (one.policy_digest, other.policy_digest) and (
        one.policy_digest != other.policy_digest
    )


def _policy_difference(one: RunResult, other: RunResult) -> str:
    """What differs between two reports' policies, as far as the reports tell."""
    mine, theirs = {r.id: r for r in one.rules}, {r.id: r for r in other.rules}
    changed = sorted(i for i in mine.keys() | theirs.keys() if mine.get(i) != theirs.get(i))
    if changed:
        shown = ", ".join(changed[:5]) + (", …" if len(changed) > 5 else "")
        return f"their rules differ: {shown}"
    if [r.id for r in one.rules] != [r.id for r in other.rules]:
        return "their rules are in another order"
    return "their rules' settings or their waivers differ"


def _sources(one: RunResult, other: RunResult) -> str:
    """Where two reports' policies were read from, once when it is one file."""
    if one.policy_source == other.policy_source:
        return f"both read from {one.policy_source}"
    return f"read from {one.policy_source} and {other.policy_source}"


def _check_times(runs: Sequence[RunResult], names: Sequence[str], max_spread: timedelta) -> None:
    """The runs started within ``max_spread`` of each other: a report left over from an
    earlier night is not a part of tonight's audit."""
    starts = [(run.started_at, name) for run, name in zip(runs, names, strict=True)]
    (first, first_name), (last, last_name) = min(starts), max(starts)
    if last - first > max_spread:
        hours = max_spread.total_seconds() / 3600  # as given: --max-spread is in hours
        raise InputError(
            f"{first_name} started at {first:%Y-%m-%d %H:%M:%S %Z} and {last_name} at "
            f"{last:%Y-%m-%d %H:%M:%S %Z}, {_span(last - first)} apart (more than "
            f"--max-spread {hours:g} hours): not shards of one audit (a report left over from "
            "an earlier run?)"
        )


def _span(span: timedelta) -> str:
    """A span as a person reads it (a spread of 2 s read "0.0 hours apart")."""
    seconds = span.total_seconds()
    if seconds < 1:
        return "less than a second"
    if seconds < 120:
        return f"{seconds:.1f} seconds"
    if seconds < 3600:
        return f"{seconds / 60:.1f} minutes"
    hours = seconds / 3600
    return f"{hours:.1f} hours" if hours < 100 else f"{hours / 24:.1f} days"


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


def _check_union(runs: Sequence[RunResult]) -> None:
    """The shards' hosts together are the selection they were split from: a host deleted
    from a shard's report (or added to one) would otherwise go unnoticed."""
    first = runs[0].shard
    if first is None:
        return
    held = [s.host for run in runs for s in run.snapshots]
    if hosts_digest(held) != first.hosts_digest:
        whole = f"the {first.selected} hosts" if first.selected is not None else "the hosts"
        raise InputError(
            f"the shards hold {len(held)} hosts, not {whole} they were split from: a host "
            "is missing from (or was added to) a shard report"
        )
