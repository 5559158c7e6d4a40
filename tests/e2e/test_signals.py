"""SIGINT and SIGTERM in the middle of a run: partial results written, history intact,
exit code 130 / 143, nothing left running."""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_signal_mid_run_writes_a_partial_report(
    tmp_path: Path, sig: signal.Signals, code: int
) -> None:
    with socket.socket() as silent:  # accepts TCP, never speaks SSH: the host hangs
        silent.bind(("127.0.0.1", 0))
        silent.listen(4)
        inventory = tmp_path / "inventory.yaml"
        inventory.write_text(
            "hosts:\n"
            "  localhost: {transport: local}\n"
            f"  stuck: {{address: 127.0.0.1, port: {silent.getsockname()[1]}}}\n"
        )
        report, db, log = tmp_path / "report.json", tmp_path / "history.sqlite", tmp_path / "err"
        with log.open("w") as stderr:
            process = subprocess.Popen(
                [sys.executable, "-m", "fleetaudit", "run", inventory, "-o", f"json={report}",
                 "--db", db, "--connect-timeout", "60", "--insecure-no-host-key-check"],
                stdout=subprocess.DEVNULL, stderr=stderr, env={"PATH": "/usr/bin:/bin",
                "XDG_STATE_HOME": str(tmp_path)},
            )  # fmt: skip
            try:
                time.sleep(2.0)  # localhost is done long before; stuck waits for a banner
                process.send_signal(sig)
                returncode = process.wait(timeout=30)
            finally:
                if process.poll() is None:
                    process.kill()
                    process.wait(timeout=10)
    assert returncode == code, log.read_text()
    assert f"interrupted by {sig.name}" in log.read_text()
    hosts = {h["host"]: h for h in json.loads(report.read_text())["hosts"]}
    assert hosts["localhost"]["status"] == "ok"
    assert hosts["stuck"]["status"] == "interrupted"
    with sqlite3.connect(db) as history:
        assert history.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        [(exit_code,)] = history.execute("SELECT exit_code FROM runs").fetchall()
    assert exit_code == code


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_second_signal_while_the_report_is_written_stops_at_once(
    tmp_path: Path, sig: signal.Signals
) -> None:
    """After the first signal the run writes its partial report; here the report goes to a
    FIFO nobody reads, so writing blocks (a stuck NFS mount, a full pipe). The second signal
    must end the process there and then, by that signal, saying why on stderr; not be
    turned into "interrupted; no report written", nor wait."""
    fifo = tmp_path / "report.fifo"
    os.mkfifo(fifo)
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(4)
        inventory = tmp_path / "inventory.yaml"
        inventory.write_text(
            f"hosts:\n  stuck: {{address: 127.0.0.1, port: {silent.getsockname()[1]}}}\n"
        )
        log = tmp_path / "err"
        with log.open("w") as stderr:
            process = subprocess.Popen(
                [sys.executable, "-m", "fleetaudit", "run", inventory, "-o", f"json={fifo}",
                 "--no-history", "--connect-timeout", "60", "--insecure-no-host-key-check"],
                stdout=subprocess.DEVNULL, stderr=stderr, env={"PATH": "/usr/bin:/bin",
                "XDG_STATE_HOME": str(tmp_path)},
            )  # fmt: skip
            try:
                time.sleep(2.0)  # stuck waits for a banner
                process.send_signal(sig)
                _wait_until_blocked_on_the_fifo(process.pid)
                assert process.poll() is None, log.read_text()
                process.send_signal(sig)
                returncode = process.wait(timeout=10)
            finally:
                if process.poll() is None:
                    process.kill()
                    process.wait(timeout=10)
    assert returncode == -sig, log.read_text()
    assert f"second {sig.name}: stopped at once" in log.read_text()
    assert "no report written" not in log.read_text()


def _wait_until_blocked_on_the_fifo(pid: int) -> None:
    """Until the process sleeps in the kernel's FIFO open (at most 10 s)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if Path(f"/proc/{pid}/wchan").read_text() == "wait_for_partner":  # fifo_open
            return
        time.sleep(0.05)
    raise AssertionError(f"process {pid} never blocked opening the report FIFO")
