"""SIGINT and SIGTERM in the middle of a run: partial results written, history intact,
exit code 130 / 143, nothing left running."""

from __future__ import annotations

import json
import os
import select
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import IO, Any

import pytest


@pytest.mark.parametrize(
    ("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143), (signal.SIGHUP, 129)]
)
def test_signal_mid_run_writes_a_partial_report(
    tmp_path: Path, sig: signal.Signals, code: int
) -> None:
    report, db = tmp_path / "report.json", tmp_path / "history.sqlite"
    with _run_with_a_stuck_host(tmp_path, "-o", f"json={report}", "--db", str(db)) as (
        process,
        log,
    ):
        process.send_signal(sig)
        returncode = process.wait(timeout=30)
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
    with _run_with_a_stuck_host(tmp_path, "-o", f"json={fifo}", "--no-history") as (
        process,
        log,
    ):
        process.send_signal(sig)
        _wait_until_waiting_for_a_reader(log)
        assert process.poll() is None, log.read_text()
        process.send_signal(sig)
        returncode = process.wait(timeout=10)
    assert returncode == -sig, log.read_text()
    assert f"second {sig.name}: stopped at once" in log.read_text()
    assert "no report written" not in log.read_text()


def _reap(process: subprocess.Popen[Any]) -> None:
    """Kill ``process`` (started by the test, by its PID) if it still runs, and wait for it."""
    if process.poll() is None:
        process.kill()
        process.wait(timeout=10)


def _wait_until_blocked_opening_a_fifo(pid: int) -> None:
    """Until the process sleeps in the kernel's FIFO open (at most 20 s)."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if Path(f"/proc/{pid}/wchan").read_text() == "wait_for_partner":  # fifo_open
            return
        time.sleep(0.05)
    raise AssertionError(f"process {pid} never blocked opening a FIFO")


WAITING = "s for a process to read this FIFO"


def _wait_until_waiting_for_a_reader(log: Path) -> None:
    """Until the process says it waits for the report FIFO's reader (at most 10 s)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if WAITING in log.read_text():
            return
        time.sleep(0.05)
    raise AssertionError(f"never waited for the report FIFO's reader: {log.read_text()}")


def _read_report(fifo: Path, process: subprocess.Popen[bytes]) -> str:
    """The report written to ``fifo``, read to its end (at most 60 s): a blocking open
    would hang until the test's timeout if the process never opened it for writing, with
    nothing said about why."""
    fd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)  # the writer's open then succeeds too
    deadline, text, written = time.monotonic() + 60, b"", False
    try:
        while time.monotonic() < deadline:
            if select.select([fd], [], [], 0.1)[0]:
                chunk = os.read(fd, 65536)
                written = written or bool(chunk)
                if not chunk and written:
                    return text.decode()
                if not chunk:  # no writer yet: a FIFO without one reads as its end
                    time.sleep(0.05)
                text += chunk
            elif process.poll() is not None and not written:
                break
    finally:
        os.close(fd)
    raise AssertionError(f"no whole report came through the FIFO (exit {process.poll()})")


def _read_until(stream: IO[bytes], text: str) -> None:
    """Read ``stream`` until ``text`` has come (at most 10 s)."""
    deadline, seen = time.monotonic() + 10, b""
    while time.monotonic() < deadline and text.encode() not in seen:
        if select.select([stream], [], [], 0.1)[0]:
            chunk = os.read(stream.fileno(), 4096)
            if not chunk:
                break
            seen += chunk
    assert text.encode() in seen, seen


def _run_into_a_fifo(tmp_path: Path, *extra: str) -> tuple[subprocess.Popen[bytes], Path, Path]:
    """``fleetaudit run`` of this machine (``transport: local``) and of a port that
    refuses, whose JSON report goes to a FIFO: the audit is over in a moment, and the
    process then waits, reports not written, until the test reads the FIFO."""
    fifo, log = tmp_path / "report.fifo", tmp_path / "err"
    os.mkfifo(fifo)
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        refused = holder.getsockname()[1]
    inventory = tmp_path / "inventory.yaml"
    inventory.write_text(
        "hosts:\n  localhost: {transport: local}\n"
        f"  down: {{address: 127.0.0.1, port: {refused}}}\n"
    )
    with log.open("w") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "fleetaudit", "run", inventory, "-o", f"json={fifo}",
             "--insecure-no-host-key-check", "--allow-unreachable", *extra],
            stdout=subprocess.DEVNULL, stderr=stderr,
            env={"PATH": "/usr/bin:/bin", "XDG_STATE_HOME": str(tmp_path)},
        )  # fmt: skip
    _wait_until_waiting_for_a_reader(log)
    return process, fifo, log


def _read_and_wait(process: subprocess.Popen[bytes], fifo: Path) -> tuple[int, str]:
    try:
        with fifo.open() as report:
            text = report.read()
        return process.wait(timeout=30), text
    finally:
        _reap(process)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_after_the_audit_completes_the_reports_and_the_record(
    tmp_path: Path, sig: signal.Signals
) -> None:
    """Every host is done when the signal comes: nothing is left to stop. The report being
    written is completed (not 'no report written', not killed with the previous report left
    in place), the run is recorded, and the process exits as the run would have."""
    db = tmp_path / "history.sqlite"
    process, fifo, log = _run_into_a_fifo(tmp_path, "--db", str(db))
    process.send_signal(sig)
    deadline = time.monotonic() + 10
    while "finishing the reports" not in log.read_text() and time.monotonic() < deadline:
        time.sleep(0.05)
    returncode, text = _read_and_wait(process, fifo)
    err = log.read_text()
    assert f"{sig.name}: finishing the reports and the record of the run first" in err, err
    assert returncode in (0, 1), err  # the verdict on localhost; the down host is allowed
    hosts = {h["host"]: h["status"] for h in json.loads(text)["hosts"]}
    assert hosts == {"localhost": "ok", "down": "unreachable"}
    with sqlite3.connect(db) as history:
        [(recorded,)] = history.execute("SELECT exit_code FROM runs").fetchall()
    assert recorded == returncode
    assert err.rstrip().splitlines()[-1].endswith(f"exit {returncode}")


def test_a_signal_while_the_history_is_locked_stops_at_once_and_says_so(
    tmp_path: Path,
) -> None:
    """Another process holds the history database (for up to the 5 minutes a run waits):
    a signal then must not wait for it (the record gets a few seconds), nor kill the
    process without a word."""
    db = tmp_path / "history.sqlite"
    process, fifo, log = _run_into_a_fifo(tmp_path, "--db", str(db))
    holder = sqlite3.connect(db, isolation_level=None)
    try:
        holder.execute("BEGIN EXCLUSIVE")
        with fifo.open() as report:
            json.loads(report.read())  # written whole; then the run waits for the lock
        time.sleep(1.0)
        process.send_signal(signal.SIGTERM)
        # the lock is held until after this wait: a run that waited for it would not end
        returncode = process.wait(timeout=30)
    finally:
        holder.close()
        _reap(process)
    assert returncode == -signal.SIGTERM
    said = log.read_text().splitlines()
    assert any(
        "SIGTERM (the history database stayed locked 5 s after it): stopped at once" in line
        for line in said
    ), said
    # cron's `tail -n 1` still gets the summary, saying the run is not in the history
    assert said[-1].endswith("exit 143: this run was not recorded"), said
    with sqlite3.connect(db) as history:
        assert history.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        tables = {name for (name,) in history.execute("SELECT name FROM sqlite_master")}
        if "runs" in tables:  # the schema may not even have been made
            assert history.execute("SELECT count(*) FROM runs").fetchone()[0] == 0


def test_a_run_the_history_cannot_record_still_names_its_hosts_not_audited(
    tmp_path: Path,
) -> None:
    """The history file was damaged during the audit: the run says so, exits 2, and the
    cron mail still names the host that was not audited and ends with the summary."""
    db = tmp_path / "history.sqlite"
    process, fifo, log = _run_into_a_fifo(tmp_path, "--db", str(db))
    db.write_bytes(b"not a database\n" * 100)
    for leftover in (tmp_path / "history.sqlite-wal", tmp_path / "history.sqlite-shm"):
        leftover.unlink(missing_ok=True)
    returncode, _ = _read_and_wait(process, fifo)
    lines = log.read_text().rstrip().splitlines()
    assert returncode == 2, lines
    assert any("it is no SQLite file at all" in line for line in lines), lines
    assert any(line.startswith("fleetaudit: not audited: unreachable 1 (down)") for line in lines)
    assert lines[-1].endswith("exit 2: the history could not record this run"), lines


def test_a_run_started_under_nohup_goes_on_through_sighup(tmp_path: Path) -> None:
    """``nohup`` (and a shell's ``&`` for SIGINT) starts the run ignoring the signal, so that
    closing the terminal does not stop it: a SIGHUP must then change nothing."""
    ignore_sighup = partial(signal.signal, signal.SIGHUP, signal.SIG_IGN)
    with _run_with_a_stuck_host(tmp_path, "--no-history", preexec=ignore_sighup) as (
        process,
        log,
    ):
        process.send_signal(signal.SIGHUP)
        time.sleep(1.0)
        still_running = process.poll() is None
        process.send_signal(signal.SIGTERM)
        returncode = process.wait(timeout=30)
    assert still_running, log.read_text()
    assert returncode == 143, log.read_text()
    assert "interrupted by SIGTERM" in log.read_text()


def test_a_signal_while_the_run_is_recorded_lets_the_record_finish(tmp_path: Path) -> None:
    """Recording takes a moment (here a second and a half, made slow on purpose); a signal
    then must not throw the night away: the record is finished, and the run exits with its
    own code."""
    db = _history_of_one_run(tmp_path, slow="BEFORE INSERT", rows=12_000_000)  # ~1.5 s
    process, fifo, log = _run_into_a_fifo(tmp_path, "--db", str(db))
    try:
        with fifo.open() as report:
            json.loads(report.read())
        time.sleep(0.3)  # the record is being made
        process.send_signal(signal.SIGTERM)
        returncode = process.wait(timeout=60)
    finally:
        _reap(process)
    err = log.read_text()
    assert "SIGTERM: finishing the history record first" in err, err
    assert returncode in (0, 1), err
    with sqlite3.connect(db) as history:
        codes = [code for (code,) in history.execute("SELECT exit_code FROM runs")]
    assert len(codes) == 2 and codes[-1] == returncode


def test_a_signal_when_stderr_is_gone_still_completes_the_reports(tmp_path: Path) -> None:
    """Ctrl-C under `2>&1 | tee` kills the reader of stderr too, and a closed terminal
    takes stderr with it: saying so on stderr fails there, and must not fail the report
    being written."""
    db = tmp_path / "history.sqlite"
    fifo = tmp_path / "report.fifo"
    os.mkfifo(fifo)
    inventory = tmp_path / "inventory.yaml"
    inventory.write_text("hosts:\n  localhost: {transport: local}\n")
    process = subprocess.Popen(
        [sys.executable, "-m", "fleetaudit", "run", inventory, "-o", f"json={fifo}",
         "--db", db],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        env={"PATH": "/usr/bin:/bin", "XDG_STATE_HOME": str(tmp_path)},
    )  # fmt: skip
    try:
        assert process.stderr is not None
        _read_until(process.stderr, WAITING)
        process.stderr.close()  # the reader is gone: writing to stderr now fails (EPIPE)
        process.send_signal(signal.SIGINT)
        time.sleep(0.3)
        hosts = json.loads(_read_report(fifo, process))["hosts"]
        returncode = process.wait(timeout=60)
    finally:
        _reap(process)
    assert [h["status"] for h in hosts] == ["ok"]
    assert returncode in (0, 1)
    with sqlite3.connect(db) as history:
        [(recorded,)] = history.execute("SELECT exit_code FROM runs").fetchall()
    assert recorded == returncode


def test_a_run_started_with_stderr_closed_writes_and_records_as_any(tmp_path: Path) -> None:
    """`2>&-` leaves Python no sys.stderr: every message then failed, the run was lost and
    the process exited 1, which reads as "findings"."""
    db, report = tmp_path / "history.sqlite", tmp_path / "report.json"
    inventory = tmp_path / "inventory.yaml"
    inventory.write_text("hosts:\n  localhost: {transport: local}\n")
    argv = [sys.executable, "-m", "fleetaudit", "run", inventory, "--db", db, "-o",
            f"json={report}", "--fail-on", "critical"]  # fmt: skip
    env = {"PATH": "/usr/bin:/bin", "XDG_STATE_HOME": str(tmp_path)}
    done = subprocess.run(
        argv, stdout=subprocess.DEVNULL, env=env, timeout=120, check=False,
        preexec_fn=lambda: os.close(2),
    )  # fmt: skip
    assert done.returncode == 0
    assert [h["status"] for h in json.loads(report.read_text())["hosts"]] == ["ok"]
    with sqlite3.connect(db) as history:
        assert history.execute("SELECT exit_code FROM runs").fetchall() == [(0,)]


def test_closing_the_terminal_mid_run_stops_it_as_sighup_does(tmp_path: Path) -> None:
    """The terminal goes away during the audit: SIGHUP, and stderr (the progress bar's
    terminal) fails with EIO. The partial report and the record must still be written
    (the bar's last drawing failed the run with an internal error: exit 2, no report)."""
    import pty
    import select

    inventory = tmp_path / "inventory.yaml"
    inventory.write_text("hosts:\n  localhost: {transport: local}\n")
    report, db = tmp_path / "report.json", tmp_path / "history.sqlite"
    argv = [sys.executable, "-m", "fleetaudit", "run", str(inventory), "-o", f"json={report}",
            "--db", str(db), "--samples", "3", "--interval", "3"]  # fmt: skip
    # unbuffered stderr (as services often run Python) fails at each write, not at exit
    env = {"PATH": "/usr/bin:/bin", "XDG_STATE_HOME": str(tmp_path), "TERM": "xterm",
           "PYTHONUNBUFFERED": "1"}  # fmt: skip
    pid, master = pty.fork()
    if pid == 0:  # the child: a session of its own, this terminal its controlling one
        os.execve(sys.executable, argv, env)
    try:
        drawn, deadline = b"", time.monotonic() + 30
        while b"auditing" not in drawn and time.monotonic() < deadline:
            if select.select([master], [], [], 0.1)[0]:
                drawn += os.read(master, 65536)
        time.sleep(1.0)  # the host is between its samples
    finally:
        os.close(master)  # the terminal goes away
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 129
    hosts = {h["host"]: h["status"] for h in json.loads(report.read_text())["hosts"]}
    assert hosts == {"localhost": "interrupted"}
    with sqlite3.connect(db) as history:
        assert history.execute("SELECT exit_code FROM runs").fetchall() == [(129,)]


def test_a_signal_while_old_runs_are_deleted_leaves_them_for_the_next_run(
    tmp_path: Path,
) -> None:
    """--keep-days runs once the night is recorded; a signal then must neither wait for a
    long deletion nor say the run may be missing: the exit code is the recorded one."""
    db = _history_of_one_run(tmp_path, slow="BEFORE DELETE", rows=40_000_000, old=True)
    process, fifo, log = _run_into_a_fifo(tmp_path, "--db", str(db), "--keep-days", "30")
    try:
        with fifo.open() as report:
            json.loads(report.read())
        time.sleep(0.5)  # recorded; the old run is being deleted
        process.send_signal(signal.SIGTERM)
        returncode = process.wait(timeout=60)
    finally:
        _reap(process)
    err = log.read_text()
    assert "SIGTERM: old runs are left for the next run to delete" in err, err
    assert "may be missing" not in err
    with sqlite3.connect(db) as history:
        codes = [code for (code,) in history.execute("SELECT exit_code FROM runs")]
    assert len(codes) == 4 and codes[-1] == returncode  # the deletion was left undone


def test_a_stopped_run_waits_for_a_locked_history_no_longer_than_after_a_signal(
    tmp_path: Path,
) -> None:
    """SIGTERM stopped the audit (systemd's stop, a pod's grace period): the record then
    gets its few seconds, not the 5 minutes another process may hold the database for."""
    db = tmp_path / "history.sqlite"
    with _run_with_a_stuck_host(tmp_path, "--db", str(db), "-o", "json=/dev/null") as (
        process,
        log,
    ):
        holder = sqlite3.connect(db, isolation_level=None)
        try:
            holder.execute("BEGIN EXCLUSIVE")
            process.send_signal(signal.SIGTERM)
            # the lock is held until after this wait: a run that waited for it would not end
            returncode = process.wait(timeout=60)
        finally:
            holder.close()
    assert returncode == -signal.SIGTERM
    assert "(the history database stayed locked 5 s after it)" in log.read_text()


def test_signals_once_the_run_is_recorded_change_nothing(tmp_path: Path) -> None:
    """Two signals while old runs are deleted: the run is recorded, so the process only
    says what it did and exits with the code recorded, not killed by the second."""
    db = _history_of_one_run(tmp_path, slow="BEFORE DELETE", rows=40_000_000, old=True)
    process, fifo, log = _run_into_a_fifo(tmp_path, "--db", str(db), "--keep-days", "30")
    try:
        with fifo.open() as report:
            json.loads(report.read())
        time.sleep(0.5)  # recorded; the old run is being deleted
        process.send_signal(signal.SIGTERM)
        time.sleep(0.05)
        process.send_signal(signal.SIGTERM)
        returncode = process.wait(timeout=60)
    finally:
        _reap(process)
    err = log.read_text()
    assert "may be missing" not in err, err
    with sqlite3.connect(db) as history:
        codes = [code for (code,) in history.execute("SELECT exit_code FROM runs")]
    assert codes[-1] == returncode
    assert err.rstrip().splitlines()[-1].endswith(f"exit {returncode}")


def _history_of_one_run(tmp_path: Path, slow: str, rows: int, old: bool = False) -> Path:
    """A history holding one real run, and a trigger making the ``slow`` statement on runs
    take seconds of SQLite's own work (a recursive count of ``rows`` rows). With ``old``,
    three runs, the first two dated 2020, so that --keep-days 30 deletes them: the newest
    run of an inventory and the run before it are kept for its next diff."""
    db = tmp_path / "history.sqlite"
    inventory = tmp_path / "first.yaml"
    inventory.write_text("hosts:\n  localhost: {transport: local}\n")
    for _ in range(3 if old else 1):
        first = subprocess.run(
            [sys.executable, "-m", "fleetaudit", "run", inventory, "--db", db,
             "-o", "json=/dev/null"],
            capture_output=True, timeout=120, env={"PATH": "/usr/bin:/bin",
            "XDG_STATE_HOME": str(tmp_path)}, check=False,
        )  # fmt: skip
        assert first.returncode in (0, 1), first.stderr
    with sqlite3.connect(db) as history:
        if old:
            history.execute(
                "UPDATE runs SET started_at = '2020-01-01T00:00:00+00:00' "
                "WHERE started_at < (SELECT max(started_at) FROM runs)"
            )
        history.execute(
            f"CREATE TRIGGER slow {slow} ON runs BEGIN SELECT count(*) FROM (WITH RECURSIVE "
            f"c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < {rows}) SELECT x "
            "FROM c); END"
        )
    return db


@contextmanager
def _run_with_a_stuck_host(
    tmp_path: Path, *options: str, preexec: Callable[[], object] | None = None
) -> Iterator[tuple[subprocess.Popen[bytes], Path]]:
    """``fleetaudit run`` of this machine and of a host that accepts TCP and never speaks
    SSH (it waits for a banner until stopped), ``options`` added; the process and the file
    its stderr goes to, once this machine is done. Killed at the end if still running."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(4)
        inventory = tmp_path / "inventory.yaml"
        inventory.write_text(
            "hosts:\n  localhost: {transport: local}\n"
            f"  stuck: {{address: 127.0.0.1, port: {silent.getsockname()[1]}}}\n"
        )
        log = tmp_path / "err"
        with log.open("w") as stderr:
            process = subprocess.Popen(
                [sys.executable, "-m", "fleetaudit", "run", inventory, "--connect-timeout",
                 "60", "--insecure-no-host-key-check", *options],
                stdout=subprocess.DEVNULL, stderr=stderr, preexec_fn=preexec,
                env={"PATH": "/usr/bin:/bin", "XDG_STATE_HOME": str(tmp_path)},
            )  # fmt: skip
        try:
            time.sleep(2.0)  # this machine is done long before; stuck waits for a banner
            yield process, log
        finally:
            _reap(process)


def test_a_sigterm_before_the_audit_started_says_so(tmp_path: Path) -> None:
    """Stopped while it still reads its inventory (here a FIFO nobody writes: the pod
    stopped at once): the process ends by SIGTERM as before, but no longer without a word."""
    inventory = tmp_path / "inventory.fifo"
    os.mkfifo(inventory)
    log = tmp_path / "err"
    with log.open("w") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "fleetaudit", "run", inventory, "--no-history"],
            stdout=subprocess.DEVNULL, stderr=stderr,
            env={"PATH": "/usr/bin:/bin", "XDG_STATE_HOME": str(tmp_path)},
        )  # fmt: skip
    try:
        _wait_until_blocked_opening_a_fifo(process.pid)  # the inventory's, no writer
        process.send_signal(signal.SIGTERM)
        returncode = process.wait(timeout=30)
    finally:
        _reap(process)
    assert returncode == -signal.SIGTERM
    assert "SIGTERM before the audit started: stopped at once" in log.read_text()
