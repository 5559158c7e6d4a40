"""The second SIGINT/SIGTERM of a run stops it at once, and says so on stderr."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

_PROGRAM = """
import asyncio, os, signal
from fleetaudit.collect.stopping import StopRequest

async def main():
    stop = StopRequest()
    stop.install()
    os.kill(os.getpid(), signal.{name})
    await asyncio.wait_for(stop.event.wait(), 10)
    print("first signal: stop requested", flush=True)
    os.kill(os.getpid(), signal.{name})
    await asyncio.sleep(10)
    print("still running after the second signal", flush=True)

asyncio.run(main())
"""


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_second_signal_stops_at_once_with_a_message(sig: signal.Signals) -> None:
    done = subprocess.run(
        [sys.executable, "-c", _PROGRAM.format(name=sig.name)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.stdout == "first signal: stop requested\n"
    assert done.returncode == -sig
    assert f"second {sig.name}: stopped at once" in done.stderr


@pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("unshare") is None, reason="needs root and unshare"
)
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_second_signal_stops_pid_1_of_a_container_too(sig: signal.Signals) -> None:
    """In a container fleetaudit may be PID 1, for which the kernel ignores a signal whose
    handler is the default: re-raising it would leave the run going after "stopped at
    once". It exits with 128 + the signal number instead."""
    done = subprocess.run(
        ["unshare", "--pid", "--fork", sys.executable, "-c", _PROGRAM.format(name=sig.name)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.stdout == "first signal: stop requested\n", done.stderr
    assert done.returncode == 128 + sig
    assert f"second {sig.name}: stopped at once" in done.stderr


_WRITING = """
import os, signal, sys, time
from fleetaudit.signals import AfterTheAudit, removed_if_stopped_at_once

half_written, other = sys.argv[1], sys.argv[2]
with AfterTheAudit(stopped_by="SIGINT"), removed_if_stopped_at_once(half_written):
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(10)
print("still running after the second signal", flush=True)
"""


def test_a_report_half_written_when_stopped_at_once_is_removed(tmp_path: Path) -> None:
    """The temporary file of a report being replaced would stay beside the previous
    report, one more on every run stopped while writing; other files are left alone."""
    half_written, other = tmp_path / ".report.json.x1.tmp", tmp_path / "report.json"
    half_written.write_text('{"hosts": [')
    other.write_text("last night's report")
    done = subprocess.run(
        [sys.executable, "-c", _WRITING, str(half_written), str(other)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == -signal.SIGTERM, done.stderr
    assert "second SIGTERM: stopped at once" in done.stderr
    assert not half_written.exists()
    assert other.read_text() == "last night's report"


_HANDOVER = """
import asyncio, os, signal
from fleetaudit.collect.stopping import StopRequest
from fleetaudit.signals import AfterTheAudit

async def audit():
    stop = StopRequest()
    stop.install()
    stop.uninstall()  # the audit is over; connections are being closed, the run judged

asyncio.run(audit())
os.kill(os.getpid(), signal.SIGTERM)  # before the reports are written
with AfterTheAudit() as late:
    print("reports written, received", late.received, flush=True)
"""


def test_a_signal_between_the_audit_and_the_reports_is_kept_for_them() -> None:
    """The default action in that window would kill the process, reports unwritten."""
    done = subprocess.run(
        [sys.executable, "-c", _HANDOVER], capture_output=True, text=True, timeout=30, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "reports written, received SIGTERM\n"
    assert "SIGTERM: finishing the reports and the record of the run first" in done.stderr
