"""Output targets through the real command line: checked before the audit, a broken stdout
is one clear line (or a quiet exit for a closed pipe), and the history records the exit code
the process really ends with."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.runcli import fleetaudit

CAPTURE = (
    "Netid State  Recv-Q Send-Q Local Address:Port Peer Address:Port Process\n"
    'tcp   LISTEN 0      128    0.0.0.0:22         0.0.0.0:*         users:(("sshd",pid=1,fd=3))\n'
)


def _local_inventory(tmp_path: Path) -> Path:
    inventory = tmp_path / "inventory.yaml"
    inventory.write_text("hosts:\n  localhost: {transport: local}\n")
    return inventory


def _recorded_codes(db: Path) -> list[int]:
    with sqlite3.connect(db) as connection:
        return [row[0] for row in connection.execute("SELECT exit_code FROM runs")]


def _run(argv: list[str], stdout_fd: int | None, state: Path) -> tuple[int, str]:
    """Run ``argv`` with descriptor ``stdout_fd`` (None: this one's) as its stdout; its exit
    code and stderr."""
    done = subprocess.run(
        argv,
        stdout=stdout_fd,
        stderr=subprocess.PIPE,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "XDG_STATE_HOME": str(state)},
    )
    return done.returncode, done.stderr


def _run_with_stdout(stdout_fd: int, *args: str | Path, state: Path) -> tuple[int, str]:
    """``python -m fleetaudit ARGS`` with descriptor ``stdout_fd`` as its stdout."""
    return _run([sys.executable, "-m", "fleetaudit", *map(str, args)], stdout_fd, state)


def test_unwritable_stdout_is_one_clear_line(tmp_path: Path) -> None:
    capture = tmp_path / "cap.ss"
    capture.write_text(CAPTURE)
    with open(capture, "rb") as read_only:  # writing to it fails like a full disk does
        code, stderr = _run_with_stdout(read_only.fileno(), "parse", capture, state=tmp_path)
    assert code == 2
    assert stderr == "fleetaudit: error: cannot write to stdout: Bad file descriptor\n"


@pytest.mark.parametrize("command", ["parse", "check"])
def test_a_closed_stdout_is_one_clear_line(tmp_path: Path, command: str) -> None:
    """Started with descriptor 1 closed (`>&-`): Python sets sys.stdout to None. A command
    that audits or judges says so before the work, as for any other report target (QA:
    `run` audited every host first); `parse` has nothing to save by it."""
    capture = tmp_path / "cap.ss"
    capture.write_text(CAPTURE)
    script = f'exec "$0" -m fleetaudit {command} "$1" >&-'
    code, stderr = _run(["sh", "-c", script, sys.executable, str(capture)], None, tmp_path)
    assert code == 2
    if command == "check":
        assert stderr == (
            "fleetaudit: error: cannot write the report to stdout: the program was started "
            "with stdout closed; give --output FILE\n"
        )
    else:
        assert stderr == "fleetaudit: error: cannot write to stdout: Bad file descriptor\n"


def test_closed_pipe_is_a_quiet_exit(tmp_path: Path) -> None:
    capture = tmp_path / "cap.ss"
    capture.write_text(CAPTURE)
    read_end, write_end = os.pipe()
    os.close(read_end)  # `| head -1` that has already gone: every write is EPIPE
    try:
        code, stderr = _run_with_stdout(write_end, "parse", capture, state=tmp_path)
    finally:
        os.close(write_end)
    assert (code, stderr) == (141, "")


def _big_capture(path: Path, listeners: int) -> Path:
    """A capture of ``listeners`` telnet listeners: a report far larger than a pipe holds."""
    rows = "".join(
        f"tcp LISTEN 0 128 10.0.{n // 250}.{n % 250 + 1}:23 0.0.0.0:* "
        f'users:(("inetd",pid={n + 2},fd=3))\n'
        for n in range(listeners)
    )
    path.write_text(CAPTURE + rows)
    return path


@pytest.mark.parametrize("unbuffered", ["1", ""])
@pytest.mark.parametrize("format", ["table", "csv"])
def test_a_reader_that_goes_away_mid_report_is_exit_141(
    tmp_path: Path, unbuffered: str, format: str
) -> None:
    """`| head`: under PYTHONUNBUFFERED (many container images) the rest of a report one
    write(2) did not take was dropped without an error, and the run exited 1 (QA)."""
    capture = _big_capture(tmp_path / "web1.ss", 3000)
    env = {**os.environ, "XDG_STATE_HOME": str(tmp_path), "PYTHONUNBUFFERED": unbuffered}
    argv = [sys.executable, "-m", "fleetaudit", "check", capture, "--privileged", "-f", format]
    with subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env) as child:
        assert child.stdout is not None and child.stderr is not None
        head = child.stdout.read(100_000)  # more than a pipe holds: the report is being written
        child.stdout.close()
        code = child.wait(timeout=120)
        stderr = child.stderr.read().decode()
    assert len(head) == 100_000
    assert (code, stderr) == (141, "")


RULE = """rules:
  - {id: x, kind: forbidden, severity: high, description: d, match: {port: 23}}"""


@pytest.mark.parametrize(
    "args",
    [
        ["history", "--db", "{db}"],
        ["inventory", "list", "{inventory}"],
        ["policy", "explain", "--host", "web1", "{capture}"],
        ["policy", "lint", "{policy}"],
    ],
)
def test_a_full_disk_under_a_listing_command_is_one_clear_line(
    tmp_path: Path, args: list[str]
) -> None:
    """They printed with print(): "internal error: OSError ... (this is a bug)" (QA)."""
    capture = tmp_path / "cap.ss"
    capture.write_text(CAPTURE)
    policy = tmp_path / "policy.yaml"
    policy.write_text(  # an expired waiver: lint has a warning to print
        "version: 1\n" + RULE + "\nwaivers:\n  - {rule: x, reason: r, expires: 2020-01-01}\n"
    )
    inventory, db = _local_inventory(tmp_path), tmp_path / "history.sqlite"
    recorded = fleetaudit("run", inventory, "--db", db, "--fail-on", "critical", state=tmp_path)
    assert recorded.returncode == 0, recorded.stderr
    values = {"inventory": inventory, "capture": capture, "policy": policy, "db": db}
    argv = [a.format(**values) for a in args]
    with open("/dev/full", "w") as full:
        code, stderr = _run_with_stdout(full.fileno(), *argv, state=tmp_path)
    assert (code, stderr) == (
        2,
        "fleetaudit: error: cannot write to stdout: No space left on device\n",
    )


@pytest.mark.parametrize(
    "env",
    [
        {"PYTHONIOENCODING": "ascii"},
        # the C locale: Python gives stdout ASCII with surrogateescape, which failed too
        {"LC_ALL": "C", "PYTHONUTF8": "0", "PYTHONIOENCODING": ""},
    ],
    ids=["ascii", "c-locale"],
)
def test_a_name_stdout_cannot_encode_is_escaped_not_a_failed_report(
    tmp_path: Path, env: dict[str, str]
) -> None:
    """Under PYTHONIOENCODING=ascii, and in the C locale, a process called "nč" was an
    internal error (QA)."""
    capture = tmp_path / "web1.ss"
    capture.write_text(CAPTURE + 'tcp LISTEN 0 5 0.0.0.0:23 0.0.0.0:* users:(("nč",pid=9,fd=3))\n')
    for format in ("table", "csv", "html", "markdown", "junit"):
        done = fleetaudit("check", capture, "--privileged", "-f", format, env=env)
        assert done.returncode == 1, done.stderr  # telnet: a finding, and a report
        assert "n\\u010d" in done.stdout, format
    done = fleetaudit("parse", capture, "-f", "table", env=env)
    assert done.returncode == 0 and "n\\u010d" in done.stdout, done.stderr


def test_history_records_the_real_exit_code(tmp_path: Path) -> None:
    inventory, db = _local_inventory(tmp_path), tmp_path / "history.sqlite"
    args = ("run", inventory, "--db", db, "--fail-on", "critical", "--allow-unreachable")
    with open(inventory, "rb") as read_only:
        code, stderr = _run_with_stdout(read_only.fileno(), *args, state=tmp_path)
    assert code == 2 and "cannot write to stdout" in stderr
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        piped, _ = _run_with_stdout(write_end, *args, state=tmp_path)
    finally:
        os.close(write_end)
    assert piped == 141
    assert _recorded_codes(db) == [2, 141]


@pytest.mark.parametrize(
    ("target", "message"),
    [("{d}", "it is a directory"), ("prom={d}/missing/x.prom", "missing does not exist")],
)
def test_bad_target_fails_before_the_audit(tmp_path: Path, target: str, message: str) -> None:
    db = tmp_path / "history.sqlite"
    inventory = _local_inventory(tmp_path)
    done = fleetaudit("run", inventory, "--db", db, "-o", target.format(d=tmp_path))
    assert done.returncode == 2 and message in done.stderr, done.stderr
    assert "hosts," not in done.stderr  # no summary: nothing was audited
    assert not db.exists(), "no run happened, so none is recorded"


def test_same_target_twice_fails_before_the_audit(tmp_path: Path) -> None:
    db = tmp_path / "history.sqlite"
    inventory = _local_inventory(tmp_path)
    same = ("-o", f"json={tmp_path}/same.out", "-o", f"junit={tmp_path}/./same.out")
    done = fleetaudit("run", inventory, "--db", db, *same)
    assert done.returncode == 2 and "same.out is given twice" in done.stderr, done.stderr
    assert not db.exists() and not (tmp_path / "same.out").exists()


@pytest.mark.parametrize("command", ["run", "check", "demo"])
def test_environment_path_with_a_space(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    capture = tmp_path / "db1.ss.txt"
    capture.write_text(CAPTURE)
    arguments = {
        "run": ["run", _local_inventory(tmp_path), "--db", tmp_path / "h.sqlite"],
        "check": ["check", capture],
        "demo": ["demo"],
    }[command]
    monkeypatch.setenv("FLEETAUDIT_OUTPUT", f"json={tmp_path}/my report.json")
    monkeypatch.chdir(tmp_path)  # where a split value would put its relative "report.json"
    done = fleetaudit(*arguments)
    assert done.returncode in (0, 1, 2) and done.stdout == "", done.stderr
    assert (tmp_path / "my report.json").read_text().startswith("{")
    assert not (tmp_path / "my").exists() and not (tmp_path / "report.json").exists()


@pytest.mark.parametrize("alias", ["/dev/stdout", "/dev/fd/1", "/proc/self/fd/1"])
def test_every_spelling_of_stdout_is_stdout(tmp_path: Path, alias: str) -> None:
    """A second opening of stdout would write over the report stdout itself writes."""
    capture = tmp_path / "cap.ss"
    capture.write_text(CAPTURE)
    twice = fleetaudit("check", "--host", "h1", capture, "-o", f"json={alias}", "-o", "table=-")
    assert twice.returncode == 2
    assert "only one report can go to stdout" in twice.stderr and twice.stdout == ""
    alone = fleetaudit("check", "--host", "h1", capture, "-f", "json", "-o", alias)
    assert alone.returncode in (0, 1) and json.loads(alone.stdout)["hosts"][0]["host"] == "h1"


def test_stderr_is_no_report_target(tmp_path: Path) -> None:
    capture = tmp_path / "cap.ss"
    capture.write_text(CAPTURE)
    done = fleetaudit("check", "--host", "h1", capture, "-o", "json=/dev/stderr")
    assert done.returncode == 2 and "that is stderr" in done.stderr


@pytest.mark.parametrize("target", [["-o", "json=/dev/full"], []])
def test_a_report_that_fails_to_write_still_ends_with_the_summary(
    tmp_path: Path, target: list[str]
) -> None:
    """The cron recipe mails `tail -n 20` of the log: it held only the write error, not the
    hosts not audited nor the summary line with the exit code and why (QA)."""
    inventory = tmp_path / "inventory.yaml"
    inventory.write_text(
        "hosts:\n  localhost: {transport: local}\n  gone: {address: 127.0.0.1, port: 1}\n"
    )
    with open("/dev/full", "w") as full:
        code, stderr = _run_with_stdout(
            full.fileno(), "run", inventory, "--no-history", *target, state=tmp_path
        )
    assert code == 2
    lines = stderr.splitlines()
    assert "No space left on device" in lines[0]
    assert "fleetaudit: not audited: unreachable 1 (gone)" in lines
    assert lines[-1].startswith("fleetaudit: 2 hosts, 1 audited, 1 not audited")
    assert "; exit 2: 1 host not audited" in lines[-1]
    assert lines[-1].endswith("; a report could not be written")
    assert "Exception ignored" not in stderr


def test_a_report_that_fails_to_write_leaves_the_others_written(tmp_path: Path) -> None:
    """A full disk under one report: the metrics and the other reports of the night are still
    written (a stale prom file would say the previous night), the JSON Lines run record says
    the exit code the process really ends with, and the history records it too."""
    inventory, db = _local_inventory(tmp_path), tmp_path / "history.sqlite"
    prom, jsonl, csv = tmp_path / "fa.prom", tmp_path / "run.jsonl", tmp_path / "fa.csv"
    prom.write_text("fleetaudit_run_success 1\n# last night's, stale\n")
    done = fleetaudit(
        "run", inventory, "--db", db, "--fail-on", "critical", "-o", f"jsonl={jsonl}",
        "-o", "json=/dev/full", "-o", f"prom={prom}", "-o", f"csv={csv}",
        state=tmp_path,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert "/dev/full: cannot write output file: No space left" in done.stderr
    assert "stale" not in prom.read_text() and "fleetaudit_findings{" in prom.read_text()
    assert csv.read_text().startswith("severity,host,")
    assert json.loads(jsonl.read_text().splitlines()[0])["exit_code"] == 2
    assert _recorded_codes(db) == [2]

    # The target that fails is itself a JSON Lines one: the other, written first, follows.
    done = fleetaudit(
        "run", inventory, "--db", db, "--fail-on", "critical", "-o", f"jsonl={jsonl}",
        "-o", "jsonl=/dev/full", state=tmp_path,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert json.loads(jsonl.read_text().splitlines()[0])["exit_code"] == 2
    assert _recorded_codes(db) == [2, 2]


def test_a_history_that_could_not_record_the_run_fails_before_the_audit(tmp_path: Path) -> None:
    """Found out after an hour-long audit, the run would be lost from the history."""
    inventory = _local_inventory(tmp_path)
    report = tmp_path / "run.json"
    for db, reason in (
        (inventory / "h.sqlite", f"{inventory} is not a directory"),
        (inventory / "deeper" / "h.sqlite", f"{inventory} is not a directory"),
    ):
        done = fleetaudit("run", inventory, "--db", db, "-o", f"json={report}", state=tmp_path)
        assert done.returncode == 2
        assert done.stderr == (
            f"fleetaudit: error: cannot record runs in history database {db}: {reason} "
            "(give another --db)\n"
        )
        assert not report.exists(), "refused before the audit"


def test_a_history_in_a_directory_that_does_not_exist_is_refused(tmp_path: Path) -> None:
    """As --output is: it was made without a word, and a typo in cron's --db started a new
    history; the next diff found fewer than two runs (QA)."""
    inventory, shard = _local_inventory(tmp_path), tmp_path / "shard.json"
    made = fleetaudit(
        "run", inventory, "--shard", "1/1", "--no-history", "-o", f"json={shard}",
        "--fail-on", "critical", state=tmp_path,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    for command in (["run", inventory], ["merge", shard, "--inventory", inventory]):
        db = tmp_path / "typo" / "h.sqlite"
        done = fleetaudit(*command, "--db", db, state=tmp_path)
        assert done.returncode == 2
        assert done.stderr == (
            f"fleetaudit: error: cannot record runs in history database {db}: directory "
            f"{db.parent} does not exist (create it, or give another --db)\n"
        )
        assert not db.parent.exists()


def test_a_path_ending_in_a_slash_is_a_directory_not_a_new_file(tmp_path: Path) -> None:
    """`--db DIR/` (a directory that does not exist) became an SQLite file named DIR, a new
    history started without a word; `-o json=DIR/` a report file named DIR (QA)."""
    inventory = _local_inventory(tmp_path)
    missing = tmp_path / "typo"
    db = fleetaudit("run", inventory, "--db", f"{missing}/", state=tmp_path)
    assert db.returncode == 2 and f"'{missing}/' names a directory" in db.stderr
    report = fleetaudit("run", inventory, "--no-history", "-o", f"json={missing}/", state=tmp_path)
    assert report.returncode == 2 and f"'{missing}/' names a directory" in report.stderr
    assert not missing.exists()


def test_a_fifo_gets_the_night_once_with_the_real_exit_code(tmp_path: Path) -> None:
    """A JSON Lines FIFO (a log shipper) cannot be written twice: its reader would get the
    night twice, or fleetaudit would block reopening it after the reader left. It is
    written last, once, when the failures of the other targets are known."""
    inventory = _local_inventory(tmp_path)
    fifo = tmp_path / "shipper.fifo"
    os.mkfifo(fifo)
    with open(tmp_path / "shipped.jsonl", "w") as shipped:
        reader = subprocess.Popen(["cat", str(fifo)], stdout=shipped)  # reads one writer
        try:
            done = fleetaudit(
                "run", inventory, "--no-history", "--fail-on", "critical",
                "-o", f"jsonl={fifo}", "-o", "jsonl=/dev/full", "-o", f"jsonl={tmp_path}/a.jsonl",
                state=tmp_path,
            )  # fmt: skip
            reader.wait(timeout=60)
        finally:
            reader.kill()
    assert done.returncode == 2, done.stderr
    records = [json.loads(line) for line in (tmp_path / "shipped.jsonl").read_text().splitlines()]
    assert [r["exit_code"] for r in records if r["type"] == "run"] == [2]


def test_a_fifo_nobody_reads_fails_its_report_instead_of_hanging_the_run(tmp_path: Path) -> None:
    """A FIFO left without its reader (the exporter that reads it is down): a blocking open
    would wait forever after the audit, where not even a first SIGTERM stops the run. The
    report to it fails; the other reports and the history record are still written."""
    inventory = _local_inventory(tmp_path)
    fifo = tmp_path / "metrics.fifo"
    os.mkfifo(fifo)
    done = fleetaudit(
        "run", inventory, "--db", tmp_path / "h.sqlite", "--fail-on", "critical",
        "-o", f"prom={fifo}", "-o", f"json={tmp_path}/night.json",
        state=tmp_path, timeout=60,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert f"{fifo}: cannot write output file: it is a FIFO that no process is reading" in (
        done.stderr
    )
    assert json.loads((tmp_path / "night.json").read_text())["hosts"][0]["status"] == "ok"
    assert _recorded_codes(tmp_path / "h.sqlite") == [2]


@pytest.mark.parametrize("given", ["json=", ""])
def test_an_empty_output_path_is_refused_not_taken_for_stdout(tmp_path: Path, given: str) -> None:
    """`-o json=$OUT` with OUT unset in cron: the report must not go to the mail instead."""
    done = fleetaudit(
        "run", _local_inventory(tmp_path), "--no-history", "-o", given, state=tmp_path
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stdout == ""
    assert f"--output {given!r}: no file given; '-' writes to stdout" in done.stderr


@pytest.mark.parametrize("command", ["parse", "diff", "snapshot"])
def test_an_empty_single_file_output_is_refused_as_empty(tmp_path: Path, command: str) -> None:
    """The commands whose -o takes one file read `-o ''` as the current directory and said
    ". is a directory", which hides the unset variable behind it."""
    capture = tmp_path / "web1.ss.txt"
    capture.write_text(CAPTURE)
    first = {
        "parse": [capture],
        "diff": [],
        "snapshot": [_local_inventory(tmp_path)],
    }[command]
    done = fleetaudit(command, *first, "-o", "", state=tmp_path)
    assert done.returncode == 2 and done.stdout == ""
    assert "'' names no file; '-' writes to stdout" in done.stderr
    assert "directory" not in done.stderr


def test_a_refused_target_from_the_environment_names_the_variable(tmp_path: Path) -> None:
    """A cron mail showed `run inv.yaml` refusing "report file inv.yaml": the command line
    names no --output; the target came from FLEETAUDIT_OUTPUT, which went unnamed."""
    inventory = _local_inventory(tmp_path)
    for target, reason in (
        (f"json={inventory}", "is the inventory this command uses"),
        (f"{tmp_path}/missing/night.json", "does not exist"),
    ):
        done = fleetaudit(
            "run", inventory, "--no-history", state=tmp_path, env={"FLEETAUDIT_OUTPUT": target}
        )
        assert done.returncode == 2 and done.stdout == ""
        assert reason in done.stderr
        assert f"(the report target is FLEETAUDIT_OUTPUT={target!r})" in done.stderr
    given = fleetaudit("run", inventory, "--no-history", "-o", inventory, state=tmp_path)
    assert "is the inventory this command uses" in given.stderr
    assert "FLEETAUDIT_OUTPUT" not in given.stderr
