"""`run -o prom=FILE` keeps "when a run last audited every host" across failing nights.

The textfile is replaced by each run, so the value must come from the history; before, it
vanished on exactly the nights an alert on it was meant to catch.
"""

from __future__ import annotations

import socket
from pathlib import Path

from tests.runcli import fleetaudit

METRIC = "fleetaudit_last_success_timestamp_seconds"


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


def test_a_failing_run_keeps_the_last_full_success_from_the_history(tmp_path: Path) -> None:
    good, mixed = tmp_path / "good.yaml", tmp_path / "mixed.yaml"
    good.write_text("hosts:\n  localhost: {transport: local}\n")
    db, prom = tmp_path / "h.sqlite", tmp_path / "fa.prom"
    assert _run(tmp_path, good, "--db", str(db)) in (0, 1)
    first = _metric(prom)
    assert first is not None

    with socket.socket() as holder:  # bound, never listening: connections are refused
        holder.bind(("127.0.0.1", 0))
        port = holder.getsockname()[1]
        mixed.write_text(
            "hosts:\n  localhost: {transport: local}\n"
            f"  down: {{address: 127.0.0.1, port: {port}}}\n"
        )
        assert _run(tmp_path, mixed, "--db", str(db)) == 2
        assert _metric(prom) == first, "the last full success must outlive a failing night"

        assert _run(tmp_path, mixed, "--no-history") == 2
        assert _metric(prom) is None, "without the history there is nothing to carry over"
