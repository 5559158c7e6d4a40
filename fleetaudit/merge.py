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
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from fleetaudit.errors import InputError
from fleetaudit.merge_checks import check_parts
from fleetaudit.model.enums import HostKeyPolicy
from fleetaudit.model.run import RunResult, in_report_order

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
    check_parts(runs, names, max_spread)
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
    differing = [
        (
            field,
            [str(getattr(run, field)) for run in runs],
            f"the merged report says {getattr(merged, field)}, {why}",
        )
        for field, why in (
            ("host_key_policy", "the weakest"),
            ("fleetaudit_version", "the newest (the fields of each are in the merged report)"),
        )
    ]
    differing += [
        (
            "the UTC day they started on",
            [f"{run.started_at.astimezone(UTC):%Y-%m-%d}" for run in runs],
            "each judged its waivers by its own day, so a waiver that expired in between "
            "holds in some and not in others (QA)",
        ),
        (
            "--samples",
            [
                ",".join(sorted({str(s.samples) for s in run.snapshots if s.status.audited}))
                for run in runs
            ],  # fmt: skip
            "the backlog and queue rules judged their hosts by different evidence",
        ),
    ]
    for what, values, why in differing:
        if len(set(values) - {""}) > 1:  # "": a shard that audited no host took no sample
            each = ", ".join(f"{name} {value}" for name, value in zip(names, values, strict=True))
            notes.append(f"the reports differ in {what} ({_bounded(each)}): {why}")
    return notes


def _bounded(text: str, limit: int = 400) -> str:
    """``text`` cut to ``limit`` characters: ten thousand shards make one line, not a page."""
    return text if len(text) <= limit else text[: limit - 1] + "…"
