"""Merging the reports of ``run --shard K/N`` back into the report one unsharded run would
have written.

``merge`` refuses a set with a shard missing or repeated, shards of different splits or
inventories, a host missing from a shard's report, reports started far apart (last night's
file left on a volume) or judged by different policies (by content: the same file may sit
at another path on another machine): a merged report that silently lacks a third of the
fleet would read as clean. The result does not depend on the order of the files. Reports
without shard information (older releases, ``check``) merge as before, but never count as
a full audit of the fleet.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from fleetaudit.errors import InputError
from fleetaudit.model.enums import HostKeyPolicy
from fleetaudit.model.run import RunResult, in_report_order
from fleetaudit.shards import hosts_digest, shard_of

DEFAULT_MAX_SPREAD = timedelta(hours=6)
"""How far apart the shards of one audit may have started: room for an Indexed Job whose
pods run a few at a time, far too little for last night's report left on a volume by a pod
that failed tonight."""

_HOST_KEY_STRENGTH = (
    HostKeyPolicy.NOT_APPLICABLE,
    HostKeyPolicy.STRICT,
    HostKeyPolicy.ACCEPT_NEW,
    HostKeyPolicy.INSECURE,
)
"""Host-key policies, from the one that skipped no check to the one that skipped them all."""


@dataclass(frozen=True, slots=True)
class Merged:
    """The merged run, and what the command must say or tell the formats about it."""

    run: RunResult
    whole_fleet: bool
    """Every input is a shard of a selection that was the whole inventory: only then may
    the metrics count the merged run as a full audit of the fleet."""
    notes: tuple[str, ...]
    """Differences between the inputs that did not stop the merge, for stderr."""


def merge_runs(
    runs: Sequence[RunResult],
    labels: Sequence[str] | None = None,
    *,
    max_spread: timedelta = DEFAULT_MAX_SPREAD,
) -> RunResult:
    """One run from the shards' runs (:func:`merge_shards`, without its notes)."""
    return merge_shards(runs, labels, max_spread=max_spread).run


def merge_shards(
    runs: Sequence[RunResult],
    labels: Sequence[str] | None = None,
    *,
    max_spread: timedelta = DEFAULT_MAX_SPREAD,
) -> Merged:
    """One run from the shards' runs: every host once, findings in report order, and the
    same result whatever order the runs are given in (they are taken by shard index).

    ``labels`` name the runs in messages (their report files); by default their run ids.
    InputError when the runs cannot be the parts of one audit.
    """
    if not runs:
        raise InputError("merge needs at least one report")
    given = list(labels) if labels is not None else [run.run_id for run in runs]
    ordered = sorted(zip(runs, given, strict=True), key=_merge_order)
    runs, names = [run for run, _ in ordered], [name for _, name in ordered]
    _check_policies(runs, names)
    _check_times(runs, names, max_spread)
    _check_shards(runs, names)
    held = Counter(s.host for run in runs for s in run.snapshots)
    twice = sorted(name for name, times in held.items() if times > 1)
    if twice:
        raise InputError(f"hosts in more than one report: {', '.join(twice[:10])}")
    _check_union(runs)
    snapshots, findings = in_report_order(
        [s for run in runs for s in run.snapshots], [f for run in runs for f in run.findings]
    )
    interrupted = [run.interrupted_by for run in runs if run.interrupted_by is not None]
    merged = runs[0].model_copy(
        update={
            "run_id": merged_run_id(runs),
            "started_at": min(run.started_at for run in runs),
            "finished_at": max(run.finished_at for run in runs),
            "host_key_policy": _weakest(run.host_key_policy for run in runs),
            "fleetaudit_version": _newest(run.fleetaudit_version for run in runs),
            "interrupted_by": interrupted[0] if interrupted else None,
            "snapshots": snapshots,
            "findings": findings,
            "shard": None,
        }
    )
    whole = all(run.shard is not None and run.shard.whole_inventory for run in runs)
    return Merged(merged, whole, tuple(_notes(runs, names, merged)))


def merged_run_id(runs: Sequence[RunResult]) -> str:
    """The id of the merged run: the earliest start and a digest of the shards' ids, shaped
    like any run's id (``20261127T031500Z-9f2a1b``). The same shards always give the same
    id, so merging them again is recognised; the id stays short whatever the number of
    shards (their ids joined took 240 KB at 10,000 shards)."""
    started = min(run.started_at for run in runs)
    digest = hashlib.sha256("\n".join(sorted(run.run_id for run in runs)).encode("utf-8"))
    return f"{started:%Y%m%dT%H%M%SZ}-{digest.hexdigest()[:6]}"


def _merge_order(pair: tuple[RunResult, str]) -> tuple[int, datetime, str]:
    """Shard index first (``shard-10`` after ``shard-2``, whatever the glob did), then
    start time and name for reports without one."""
    run, name = pair
    return (run.shard.index if run.shard else 0, run.started_at, name)


def _weakest(policies: Iterable[HostKeyPolicy]) -> HostKeyPolicy:
    """The policy that checked least: a merged report must not claim checks a shard skipped."""
    return max(policies, key=_HOST_KEY_STRENGTH.index)


def _newest(versions: Iterable[str]) -> str:
    """The newest release among ``versions`` (``0.10.0`` after ``0.9.1``): a merged report
    holds the fields of every shard's release, so an older release cannot read it."""
    return max(versions, key=_release)


def _release(version: str) -> tuple[tuple[int, ...], bool]:
    """How ``version`` sorts: its release numbers (``0.10.0`` after ``0.9.1``, ``1.0`` as
    ``1.0.0``), a final release after its pre-releases and development builds (``1.0.0``
    after ``1.0.0rc1``, ``1.0.0-rc1``, ``1.0.0.dev1``; a ``+local`` label is final), and
    anything that is no version before all versions."""
    match = _VERSION.match(version)
    if match is None:
        return (), False
    numbers = [int(part) for part in match["release"].split(".")]
    while len(numbers) > 1 and numbers[-1] == 0:
        numbers.pop()
    return tuple(numbers), match["rest"] == "" or match["rest"].startswith("+")


_VERSION = re.compile(r"(?P<release>[0-9]+(?:\.[0-9]+)*)(?P<rest>.*)", re.ASCII | re.DOTALL)
"""A release number (ASCII digits only) and what follows it."""


def _notes(runs: Sequence[RunResult], names: Sequence[str], merged: RunResult) -> list[str]:
    """What differed between the inputs without making them foreign to each other."""
    notes = [
        f"{name} was stopped by {run.interrupted_by}: its unfinished hosts are "
        '"interrupted" in the merged report'
        for run, name in zip(runs, names, strict=True)
        if run.interrupted_by is not None
    ]
    for field, why in (
        ("host_key_policy", "the weakest"),
        ("fleetaudit_version", "the newest (the fields of each are in the merged report)"),
    ):
        values = [str(getattr(run, field)) for run in runs]
        if len(set(values)) > 1:
            each = ", ".join(f"{name} {value}" for name, value in zip(names, values, strict=True))
            notes.append(
                f"the reports differ in {field} ({_bounded(each)}): "
                f"the merged report says {getattr(merged, field)}, {why}"
            )
    return notes


def _bounded(text: str, limit: int = 400) -> str:
    """``text`` cut to ``limit`` characters: ten thousand shards make one line, not a page."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


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
