"""`run -o prom=FILE` keeps "when a run last audited every host" across failing nights.

The textfile is replaced by each run, so the value must come from the history; before, it
vanished on exactly the nights an alert on it was meant to catch. Only a run that audited
every host of the same inventory counts: an ad-hoc `--limit` run, one shard or a run of
another inventory sharing the database must not reset the clock of that alert.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.runcli import fleetaudit

METRIC = "fleetaudit_last_success_timestamp_seconds"
DOWN = ("down1", "down2", "down3", "down4")
"""Hosts whose connections are refused; all in shard 2/2, and ``localhost`` in 1/2."""


def _metric(prom: Path) -> str | None:
    lines = [line for line in prom.read_text().splitlines() if line.startswith(METRIC + " ")]
    return lines[0].split()[1] if lines else None


def _run(tmp_path: Path, inventory: Path, *options: str) -> int:
    done = fleetaudit(
        "run", inventory, "-o", f"prom={tmp_path / 'fa.prom'}", "--connect-timeout", "5",
        "--insecure-no-host-key-check", *options, state=tmp_path,
    )  # fmt: skip
    assert "Traceback" not in done.stderr, done.stderr
    return done.returncode


def _inventory(path: Path, port: int, *down: str) -> Path:
    """``localhost`` (audited locally) and the ``down`` hosts (refused)."""
    lines = ["hosts:", "  localhost: {transport: local}"]
    lines += [f"  {name}: {{address: 127.0.0.1, port: {port}}}" for name in down]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_a_failing_run_keeps_the_last_full_success_from_the_history(
    tmp_path: Path, refused_port: int
) -> None:
    inventory, db, prom = tmp_path / "fleet.yaml", tmp_path / "h.sqlite", tmp_path / "fa.prom"
    assert _run(tmp_path, _inventory(inventory, refused_port), "--db", str(db)) in (0, 1)
    first = _metric(prom)
    assert first is not None

    _inventory(inventory, refused_port, "down1")  # the same inventory file, one host down
    assert _run(tmp_path, inventory, "--db", str(db)) == 2
    assert _metric(prom) == first, "the last full success must outlive a failing night"

    assert _run(tmp_path, inventory, "--no-history") == 2
    assert _metric(prom) is None, "without the history there is nothing to carry over"


@pytest.mark.parametrize(
    "partial", [("--limit", "localhost"), ("--shard", "1/2")], ids=["limit", "shard"]
)
def test_a_run_of_part_of_the_fleet_is_not_a_full_success(
    tmp_path: Path, refused_port: int, partial: tuple[str, str]
) -> None:
    inventory = _inventory(tmp_path / "fleet.yaml", refused_port, *DOWN)
    db, prom = tmp_path / "h.sqlite", tmp_path / "fa.prom"
    assert _run(tmp_path, inventory, "--db", str(db)) == 2
    assert _metric(prom) is None
    assert _run(tmp_path, inventory, "--db", str(db), *partial) in (0, 1)  # all it chose
    assert _metric(prom) is None, "its own metrics must not claim the fleet was audited"
    assert _run(tmp_path, inventory, "--db", str(db)) == 2
    assert "fleetaudit_run_success 0" in prom.read_text()
    assert _metric(prom) is None, "the fleet has never been audited whole"


def test_a_full_audit_of_another_inventory_does_not_count(
    tmp_path: Path, refused_port: int
) -> None:
    lab = _inventory(tmp_path / "lab.yaml", refused_port)
    fleet = _inventory(tmp_path / "fleet.yaml", refused_port, *DOWN)
    db, prom = tmp_path / "h.sqlite", tmp_path / "fa.prom"
    assert _run(tmp_path, lab, "--db", str(db)) in (0, 1)
    assert _metric(prom) is not None
    assert _run(tmp_path, fleet, "--db", str(db)) == 2
    assert _metric(prom) is None, "lab.yaml audited whole says nothing about fleet.yaml"


def test_the_jsonl_run_record_carries_the_exit_code(tmp_path: Path, refused_port: int) -> None:
    inventory = _inventory(tmp_path / "fleet.yaml", refused_port, *DOWN)
    report = tmp_path / "run.jsonl"
    done = fleetaudit(
        "run", inventory, "-o", f"jsonl={report}", "--connect-timeout", "5", "--no-history",
        "--insecure-no-host-key-check", state=tmp_path,
    )  # fmt: skip
    first = json.loads(report.read_text().splitlines()[0])
    assert (done.returncode, first["type"], first["exit_code"]) == (2, "run", 2)


def test_a_check_of_saved_captures_is_no_full_success_of_the_fleet(tmp_path: Path) -> None:
    """A pre-change review written where node_exporter reads it must not reset the 'not
    fully audited for days' alert: it audited no fleet."""
    capture = tmp_path / "web1.txt"
    capture.write_text(
        "Netid State  Recv-Q Send-Q Local Address:Port Peer Address:Port Process\n"
        "tcp   LISTEN 0      128    0.0.0.0:22    0.0.0.0:*    "
        'users:(("sshd",pid=1,fd=3))\n'
    )
    prom = tmp_path / "review.prom"
    done = fleetaudit("check", capture, "--privileged", "-o", f"prom={prom}", state=tmp_path)
    assert done.returncode in (0, 1), done.stderr
    text = prom.read_text()
    assert "fleetaudit_run_success" in text
    assert "fleetaudit_last_success_timestamp_seconds" not in text
