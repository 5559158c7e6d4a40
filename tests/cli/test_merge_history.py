"""`merge --inventory` records a sharded night as one run of the inventory, as an unsharded
run is recorded: `history` and `diff` see it, and the prom last-success metric of a sharded
fleet outlives a failing night instead of vanishing on it. Shards run with --no-history;
the inventory given to merge is checked against the shards.

Real runs of the CLI: ``localhost`` is audited locally, the ``down`` hosts point at a
loopback port that refuses connections.
"""

from __future__ import annotations

import json
from pathlib import Path

from fleetaudit.merge import merged_run_id
from tests.factories import run_result
from tests.runcli import fleetaudit

METRIC = "fleetaudit_last_success_timestamp_seconds"
NAMES = ("localhost", "down1", "down2", "down3", "down4")
"""``localhost`` falls in shard 1/2, the down hosts in 2/2 (see test_prom_history)."""


def _inventory(path: Path, port: int, *, down: tuple[str, ...], up: tuple[str, ...] = ()) -> Path:
    """``localhost`` local; ``up`` hosts local too (under their own name); ``down`` refused."""
    lines = ["hosts:", "  localhost: {transport: local}"]
    lines += [f"  {name}: {{transport: local, address: 127.0.0.1}}" for name in up]
    lines += [f"  {name}: {{address: 127.0.0.1, port: {port}}}" for name in down]
    path.write_text("\n".join(lines) + "\n")
    return path


def _all_up(tmp_path: Path, port: int) -> tuple[Path, Path]:
    """An inventory whose every host is audited (the down names as local hosts), and the
    history database to record in."""
    inventory = _inventory(tmp_path / "fleet.yaml", port, down=(), up=NAMES[1:])
    return inventory, tmp_path / "h.sqlite"


def _shard(tmp_path: Path, inventory: Path, k: int) -> Path:
    """Shard ``k``/2 of ``inventory`` run, without history: its report."""
    report = tmp_path / f"shard{k}.json"
    done = fleetaudit(
        "run", inventory, "--shard", f"{k}/2", "--no-history", "-o", f"json={report}",
        "--connect-timeout", "5", "--insecure-no-host-key-check", state=tmp_path,
    )  # fmt: skip
    assert done.returncode in (0, 1, 2) and "Traceback" not in done.stderr, done.stderr
    return report


def _merge(tmp_path: Path, *merge_options: str) -> tuple[int, str]:
    """The two shard reports merged: the merge's exit code and stderr."""
    reports = [tmp_path / f"shard{k}.json" for k in (1, 2)]
    merged = fleetaudit(
        "merge", *reports, "-o", f"prom={tmp_path / 'fa.prom'}", *merge_options, state=tmp_path
    )
    assert "Traceback" not in merged.stderr, merged.stderr
    return merged.returncode, merged.stderr


def _night(tmp_path: Path, inventory: Path, *merge_options: str) -> tuple[int, str]:
    """Both shards of ``inventory`` run, then merged: the merge's exit code and stderr."""
    for k in (1, 2):
        _shard(tmp_path, inventory, k)
    return _merge(tmp_path, *merge_options)


def _recorded(tmp_path: Path, db: Path) -> list[str]:
    """The history's rows (each a merged night)."""
    listed = fleetaudit("history", "--db", db, state=tmp_path)
    assert listed.returncode == 0, listed.stderr
    return listed.stdout.splitlines()[2:]  # under the header and its rule


def _metric(tmp_path: Path) -> str | None:
    prom = (tmp_path / "fa.prom").read_text().splitlines()
    lines = [line for line in prom if line.startswith(METRIC + " ")]
    return lines[0].split()[1] if lines else None


def test_a_merged_night_is_recorded_and_a_failing_one_keeps_the_last_success(
    tmp_path: Path, refused_port: int
) -> None:
    # Night 1: every host audited (the four "down" hosts are local ones under those names).
    inventory, db = _all_up(tmp_path, refused_port)
    code, stderr = _night(tmp_path, inventory, "--inventory", str(inventory), "--db", str(db))
    assert code in (0, 1), stderr
    first = _metric(tmp_path)
    assert first is not None, "a merged full audit is the fleet's last success"

    # Night 2: the same inventory file, four hosts down: exit 2, the clock stays at night 1.
    _inventory(inventory, refused_port, down=NAMES[1:])
    code, stderr = _night(tmp_path, inventory, "--inventory", str(inventory), "--db", str(db))
    assert code == 2, stderr
    assert _metric(tmp_path) == first

    assert len(_recorded(tmp_path, db)) == 2
    changes = fleetaudit("diff", "--db", db, state=tmp_path)
    assert "down1" in changes.stdout and "unreachable" in changes.stdout, changes.stdout

    # Without --inventory a merge records nothing and has no last success to carry over.
    code, stderr = _night(tmp_path, inventory)
    assert code == 2 and _metric(tmp_path) is None
    assert len(_recorded(tmp_path, db)) == 2


def test_merge_refuses_an_inventory_the_shards_were_not_split_from(
    tmp_path: Path, refused_port: int
) -> None:
    inventory = _inventory(tmp_path / "fleet.yaml", refused_port, down=NAMES[1:])
    other = _inventory(tmp_path / "other.yaml", refused_port, down=("down1", "down9"))
    code, stderr = _night(tmp_path, inventory, "--inventory", str(other))
    assert code == 2
    assert "other.yaml" in stderr and "not in the inventory: down2, down3, down4" in stderr

    bigger = _inventory(tmp_path / "bigger.yaml", refused_port, down=(*NAMES[1:], "new1"))
    code, stderr = _night(tmp_path, inventory, "--inventory", str(bigger))
    assert code == 2
    assert "whole inventory of 5 hosts, this one has 6; not in the shards: new1" in stderr
    assert not (tmp_path / "fleetaudit" / "history.sqlite").exists()


def test_db_or_keep_days_without_inventory_is_refused_but_the_environment_is_not(
    tmp_path: Path, refused_port: int
) -> None:
    inventory = _inventory(tmp_path / "fleet.yaml", refused_port, down=NAMES[1:])
    for asked in (("--db", str(tmp_path / "h.sqlite")), ("--keep-days", "30")):
        code, stderr = _night(tmp_path, inventory, *asked)
        assert code == 2
        assert "record the merged run, which needs --inventory" in stderr
    done = fleetaudit(
        "merge", tmp_path / "shard1.json", tmp_path / "shard2.json", "-o", "json=-",
        "--allow-unreachable", env={"FLEETAUDIT_DB": str(tmp_path / "env.sqlite")},
        state=tmp_path,
    )  # fmt: skip
    assert done.returncode in (0, 1, 2) and "needs --inventory" not in done.stderr
    assert not (tmp_path / "env.sqlite").exists()


def test_merging_a_night_again_replaces_its_record_and_keeps_the_verdict(
    tmp_path: Path, refused_port: int
) -> None:
    inventory, db = _all_up(tmp_path, refused_port)
    code, _ = _night(tmp_path, inventory, "--inventory", str(inventory), "--db", str(db))
    assert code in (0, 1)
    shards = [tmp_path / "shard1.json", tmp_path / "shard2.json"]
    again = fleetaudit(
        "merge", *shards, "--inventory", inventory, "--db", db, "-o", f"json={tmp_path / 'm.json'}",
        state=tmp_path,
    )  # fmt: skip
    assert again.returncode == code, again.stderr  # the fleet's verdict, not a database error
    assert "is in the history already: replaced when this merge is recorded" in again.stderr
    [row] = _recorded(tmp_path, db)
    merged_id = json.loads((tmp_path / "m.json").read_text())["run"]["run_id"]
    assert row.split()[0] == merged_id and len(merged_id) == len("20261127T031500Z-9f2a1b")


def test_a_night_merged_again_after_a_shard_was_run_again_stays_one_record(
    tmp_path: Path, refused_port: int
) -> None:
    # The night's shard 2 (the four "down" hosts) fails; its merge is recorded, exit 2.
    inventory = _inventory(tmp_path / "fleet.yaml", refused_port, down=NAMES[1:])
    recording = ("--inventory", str(inventory), "--db", str(tmp_path / "h.sqlite"))
    code, _ = _night(tmp_path, inventory, *recording)
    assert code == 2
    [failed] = _recorded(tmp_path, tmp_path / "h.sqlite")

    # The hosts are back; shard 2 alone is run again and the night merged again.
    _inventory(inventory, refused_port, down=(), up=NAMES[1:])
    _shard(tmp_path, inventory, 2)
    code, stderr = _merge(tmp_path, *recording)
    assert code in (0, 1), stderr
    assert f"merged run {failed.split()[0]} in the history used some of these shard" in stderr
    [night] = _recorded(tmp_path, tmp_path / "h.sqlite")
    hosts, failed_hosts = night.split()[3:5]
    assert (hosts, failed_hosts) == ("5", "0"), night
    recovered = _metric(tmp_path)
    assert recovered is not None, "the night merged again audited every host"

    # Shard 2 fails on a third try: that merge replaces the good one, and the metric falls
    # back to no success at all, not to the replaced merge of this very night.
    _inventory(inventory, refused_port, down=NAMES[1:])
    _shard(tmp_path, inventory, 2)
    code, stderr = _merge(tmp_path, *recording)
    assert code == 2 and "replaced when this merge is recorded" in stderr
    assert len(_recorded(tmp_path, tmp_path / "h.sqlite")) == 1
    assert _metric(tmp_path) is None


def test_shards_recorded_in_the_same_history_are_refused_before_the_merge_records(
    tmp_path: Path, refused_port: int
) -> None:
    inventory, db = _all_up(tmp_path, refused_port)
    shards = []
    for k in (1, 2):
        shards.append(tmp_path / f"s{k}.json")
        done = fleetaudit(
            "run", inventory, "--shard", f"{k}/2", "--db", db, "-o", f"json={shards[-1]}",
            state=tmp_path,
        )  # fmt: skip
        assert done.returncode in (0, 1), done.stderr
    merged = fleetaudit("merge", *shards, "--inventory", inventory, "--db", db, state=tmp_path)
    assert merged.returncode == 2
    assert "the shards' own runs are recorded in this history" in merged.stderr
    assert "Run the shards with --no-history" in merged.stderr
    assert len(_recorded(tmp_path, db)) == 2  # the two shards, and no merged night


def test_the_merged_id_is_short_stable_and_independent_of_the_order() -> None:
    base = run_result((), ())
    shards = [
        base.model_copy(update={"run_id": f"20261127T0315{k % 60:02d}Z-{k:06x}"})
        for k in range(400)
    ]
    first = merged_run_id(shards)
    assert first == merged_run_id(list(reversed(shards)))
    assert len(first) == len("20261127T031500Z-9f2a1b")
    assert first != merged_run_id(shards[:-1])
