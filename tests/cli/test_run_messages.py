"""What `fleetaudit run` says on stderr: the summary line, why an exit 2 is one, where a
partial report went, and the exit codes in --help."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.runcli import fleetaudit


def inventory(tmp: Path, port: int, *names: str) -> Path:
    path = tmp / "inventory.yaml"
    lines = [f"  {name}: {{address: 127.0.0.1, port: {port}}}\n" for name in names]
    path.write_text("hosts:\n" + "".join(lines))
    return path


@pytest.mark.parametrize("tolerant", [[], ["--allow-unreachable"]])
def test_no_host_audited_is_exit_2_and_the_summary_says_why(
    tmp_path: Path, refused_port: int, tolerant: list[str]
) -> None:
    fleet = inventory(tmp_path, refused_port, "h0", "h1")
    result = fleetaudit("run", fleet, "--no-history", "-o", tmp_path / "r.json", *tolerant)
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().splitlines()[-1] == (
        "fleetaudit: 2 hosts, 0 audited, 2 not audited, 0 findings, 0 at or above high; "
        "exit 2: no host audited"
    )


def test_summary_uses_singulars(tmp_path: Path, refused_port: int) -> None:
    fleet = inventory(tmp_path, refused_port, "h0")
    result = fleetaudit("run", fleet, "--no-history", "-o", tmp_path / "r.json")
    assert "fleetaudit: 1 host, 0 audited, 1 not audited, 0 findings," in result.stderr


def test_partly_audited_run_says_which_hosts_make_the_error(
    tmp_path: Path, refused_port: int
) -> None:
    fleet = tmp_path / "inventory.yaml"
    fleet.write_text(
        "hosts:\n  localhost: {transport: local}\n"
        f"  h0: {{address: 127.0.0.1, port: {refused_port}}}\n"
    )
    result = fleetaudit("run", fleet, "--no-history", "-o", tmp_path / "r.json")
    assert result.returncode == 2, result.stderr
    assert result.stderr.rstrip().endswith(
        "exit 2: 1 host not audited (--allow-unreachable accepts that)"
    )


def test_help_lists_no_host_audited_as_exit_2() -> None:
    text = " ".join(fleetaudit("run", "--help").stdout.replace("│", " ").split())
    assert "or no host audited at all (even with those options)" in text


def _interrupted_run(tmp: Path, *output: str | Path) -> tuple[int, str, str]:
    """`fleetaudit run` on a host that never answers, stopped by SIGINT: (code, stdout,
    stderr)."""
    with socket.socket() as silent:  # accepts TCP, never speaks SSH: the host hangs
        silent.bind(("127.0.0.1", 0))
        silent.listen(4)
        fleet = tmp / "inventory.yaml"
        fleet.write_text(
            f"hosts:\n  stuck: {{address: 127.0.0.1, port: {silent.getsockname()[1]}}}\n"
        )
        process = subprocess.Popen(
            [sys.executable, "-m", "fleetaudit", "run", fleet, *output, "--no-history",
             "--connect-timeout", "60", "--insecure-no-host-key-check"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env={"PATH": "/usr/bin:/bin", "XDG_STATE_HOME": str(tmp)},
        )  # fmt: skip
        try:
            time.sleep(2.0)  # started and waiting for the banner
            process.send_signal(signal.SIGINT)
            stdout, stderr = process.communicate(timeout=30)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=10)
    return process.returncode, stdout, stderr


def test_interrupted_run_says_where_the_partial_report_is(tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    code, stdout, stderr = _interrupted_run(tmp_path, "-o", f"json={report}")
    assert code == 130, stderr
    assert stdout == "" and report.exists()
    assert f"interrupted by SIGINT: the report written to {report} is partial" in stderr
    assert "report above" not in stderr
    code, stdout, stderr = _interrupted_run(tmp_path)
    assert code == 130 and "stuck" in stdout
    assert "interrupted by SIGINT: the report above is partial" in stderr
