"""What earlier runs in the history tell about the latest ones: the baseline of a host the
older run of a diff did not audit, the status of a host it was stopped before finishing,
and when a run last audited every host of an inventory."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path

from fleetaudit.errors import HistoryError
from fleetaudit.history.diff import Baseline, StatusBaseline
from fleetaudit.history.owners import last_owner_in
from fleetaudit.history.store import HistoryStore
from fleetaudit.model.enums import HostStatus
from fleetaudit.model.finding import Finding
from fleetaudit.model.run import RunResult

_WHOLE_LISTING_LOOKBACK = 30
"""Runs read at most for baselines: a host whose every listing is incomplete (a line no
parser reads, each night) must not make a diff read the whole history."""


def baselines(store: HistoryStore, older: RunResult, hosts: set[str]) -> dict[str, Baseline]:
    """Each of ``hosts`` as the latest run before ``older`` that audited it with a whole
    listing saw it; hosts that no earlier run (of the last few read) saw so are left out.
    Stops as soon as every host is found, so a usual night reads one or two earlier runs."""
    missing, found, read = set(hosts), {}, 0
    for run_id, audited in store.audited_before(older):  # bounded by the runs kept
        if not missing or read == _WHOLE_LISTING_LOOKBACK:
            break
        if hits := missing & audited:
            run, read = store.load_exact(run_id), read + 1
            whole = {s.host for s in run.snapshots if s.host in hits and not s.listing_incomplete}
            found.update(_baselines(run, whole))
            missing -= whole
    return found


def last_owners(
    store: HistoryStore, older: RunResult, unnamed: Sequence[Finding]
) -> dict[str, tuple[str, ...]]:
    """For each finding of ``unnamed`` (``older`` could not name its listener's owner), the
    programs the latest run before ``older`` that named that owner gave, by the finding's
    fingerprint (see :mod:`.owners`); findings no earlier run named are left out. A run's
    document is read only when its finding rows show the listener; the walk stops once
    every finding is placed."""
    missing = {f.fingerprint: f for f in unnamed if f.socket is not None}
    found: dict[str, tuple[str, ...]] = {}
    hosts = {f.host for f in missing.values()}
    for run_id, rows in store.findings_before(older, hosts):  # bounded by the runs kept
        if not missing:
            break
        places = {(host, rule, listener) for host, rule, listener, _ in rows}
        if not any(_place(f) in places for f in missing.values()):
            continue
        run_findings = store.load_exact(run_id).findings
        for fingerprint, finding in list(missing.items()):
            if (programs := last_owner_in(run_findings, finding)) is not None:
                found[fingerprint] = programs
                del missing[fingerprint]
    return found


def _place(finding: Finding) -> tuple[str, str, str | None]:
    """How the history's finding rows name a finding's place: host, rule, local endpoint."""
    return finding.host, finding.rule_id, finding.socket.endpoint if finding.socket else None


def status_baselines(
    store: HistoryStore, older: RunResult, hosts: set[str]
) -> dict[str, StatusBaseline]:
    """Each of ``hosts`` with the status recorded by the latest run before ``older`` that
    finished it (any status but ``interrupted``); hosts no such run lists are left out.
    Reads only host statuses, and stops as soon as every host is found."""
    missing, found = set(hosts), {}
    for run_id, started_at, statuses in store.statuses_before(older):  # bounded by the runs
        if not missing:
            break
        for host in missing & statuses.keys():
            if (status := _finished(statuses[host])) is not None:
                found[host] = StatusBaseline(run_id, started_at, status)
        missing -= found.keys()
    return found


def _finished(stored: str) -> HostStatus | None:
    """The status ``stored`` when it says how the host fared: None for ``interrupted``, and
    for a status this version does not know (written by a newer one)."""
    try:
        status = HostStatus(stored)
    except ValueError:
        return None
    return None if status is HostStatus.INTERRUPTED else status


def last_full_success(
    path: Path, inventory: str, excluding: Iterable[str] = (), now: datetime | None = None
) -> datetime | None:
    """When the latest run of ``inventory`` (an :func:`inventory_key`) recorded in the
    database at ``path`` that selected and audited every one of its hosts finished, leaving
    out the runs ``excluding`` and any said to finish after ``now``; None when there is
    none, or no database yet (the first run)."""
    if not path.is_file():
        return None
    with HistoryStore.open_read_only(path) as store:
        return store.last_full_success(inventory, excluding, now)


def older_for_default_diff(store: HistoryStore, latest: str) -> tuple[str, str] | None:
    """The run the default ``diff`` compares ``latest`` with, and why, when it is not
    simply the run before: the latest earlier run of the same inventory that covered at
    least as much (a whole-inventory run, or one that selected every host ``latest`` did).
    An ad-hoc ``--limit`` run between two nightly runs would otherwise turn every host it
    left out into ``(absent) -> ok``. A run still running when ``latest`` started (two
    runs at once) is skipped: compared with it, that night's changes were in no diff
    (QA). When none covered as much, the latest earlier run of
    the inventory, saying so. None when ``latest`` recorded no coverage: the run before it,
    as before schema 2. HistoryError when no earlier run of its inventory is recorded: the
    run before it, of another inventory, would show every host as gone or new."""
    covered = store.coverage(latest)
    if covered is None:
        return None
    selected: set[str] | None = None
    latest_earlier: str | None = None
    latest_times = store.times(latest)
    for run_id, whole in store.earlier_of(latest, covered.inventory):  # bounded by the runs
        if latest_times and (times := store.times(run_id)) and times.overlapped(latest_times):
            continue  # the same night run twice at once: its changes are in neither
        latest_earlier = latest_earlier or run_id
        if not whole and covered.whole:
            continue
        if not whole:
            selected = store.hosts(latest) if selected is None else selected
            if not selected <= store.hosts(run_id):
                continue
        skipped = store.runs_between(run_id, latest)
        if not skipped:
            return run_id, ""
        what = "the whole inventory" if whole else "every host the latest run did"
        return run_id, (
            f"compared with {run_id}, the latest earlier run of {covered.inventory} that "
            f"covered {what}; {skipped} run(s) in between skipped (partial, of another "
            "inventory, or running at the same time)"
        )
    if latest_earlier is None:
        raise HistoryError(
            f"the latest run, {latest}, is the first recorded of {covered.inventory}: no "
            "earlier run of it to compare with; give two runs to compare (see fleetaudit "
            "history)"
        )
    return latest_earlier, (
        f"compared with {latest_earlier}, the latest earlier run of {covered.inventory}; "
        "none covered every host the latest run did, so hosts it did not select read as new"
    )


def newer_of_the_same_inventory(store: HistoryStore, older: str, latest: str) -> tuple[str, str]:
    """The run ``diff OLDER`` compares ``older`` with, and why when it is not simply the
    latest run: the latest run of ``older``'s inventory. The latest run of another
    inventory would show every host of one as gone and every host of the other as new
    (QA). HistoryError when ``older`` is itself its inventory's latest run."""
    if older == latest:
        raise HistoryError(
            f"{older} is the latest run: nothing later to compare it with; give the run to "
            "compare it with too (fleetaudit history lists them), or no run for the latest "
            "and the one before"
        )
    covered = store.coverage(older)
    newest = store.newest_of(covered.inventory) if covered else None
    if covered is None or newest is None or newest == latest:
        return latest, ""
    if newest == older:
        raise HistoryError(
            f"{older} is the latest run of {covered.inventory}: no later run of it to compare "
            f"with (the latest run, {latest}, is of another inventory); give both runs to "
            "compare them anyway"
        )
    return newest, (
        f"compared with {newest}, the latest run of {covered.inventory} (the latest run, "
        f"{latest}, is of another inventory)"
    )


def other_inventories(store: HistoryStore, older: str, newer: str) -> str:
    """A word when the two runs are of different inventories, which the default ``diff``
    never compares but two runs named may be: a host of one only reads as new or gone."""
    ours, theirs = store.coverage(older), store.coverage(newer)
    if ours is None or theirs is None or ours.inventory == theirs.inventory:
        return ""
    return (
        f"the runs are of different inventories ({ours.inventory}, then {theirs.inventory}): "
        "a host of one only reads as new or gone"
    )


def _baselines(run: RunResult, hosts: set[str]) -> dict[str, Baseline]:
    """``hosts`` as ``run`` saw them, with their findings in it (waived ones too)."""
    return {
        s.host: Baseline(
            run.run_id,
            run.started_at,
            s,
            tuple(f for f in run.findings if f.host == s.host),
        )
        for s in run.snapshots
        if s.host in hosts
    }
