"""`run` records history; `history` lists it; `diff` compares runs or files."""

from __future__ import annotations

import json
import socket
import sqlite3
from pathlib import Path

from tests.runcli import fleetaudit


def test_demo_json_reports_diff_as_files(tmp_path: Path) -> None:
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    for path in (first, second):
        assert fleetaudit("demo", "-o", f"json={path}").returncode == 0
    done = fleetaudit("diff", first, second)
    assert done.returncode == 0, done.stderr  # the same simulated fleet: nothing changed
    assert "no change" in done.stdout
    report = json.loads(second.read_text())
    report["hosts"] = [h for h in report["hosts"] if h["host"] != "legacy1"]
    report["findings"] = [f for f in report["findings"] if f["host"] != "legacy1"]
    second.write_text(json.dumps(report))
    done = fleetaudit("diff", first, second, "--format", "json")
    assert done.returncode == 1
    changes = json.loads(done.stdout)
    assert [h["host"] for h in changes["hosts"]] == ["legacy1"]
    assert changes["hosts"][0]["status_after"] is None


def test_history_of_real_runs(tmp_path: Path) -> None:
    inventory = tmp_path / "inventory.yaml"
    inventory.write_text("hosts:\n  localhost: {transport: local}\n")
    db = tmp_path / "history.sqlite"
    for _ in range(2):
        done = fleetaudit("run", inventory, "--db", db, "--format", "json", "--fail-on", "critical")
        assert done.returncode == 0, done.stderr
    listed = fleetaudit("history", "--db", db)
    assert listed.returncode == 0 and listed.stdout.count("default") == 2
    done = fleetaudit("diff", "--db", db)
    assert done.returncode in (0, 1), done.stderr  # this machine's sockets may change
    assert done.stdout.startswith("DIFF ")
    missing = fleetaudit("diff", "--db", tmp_path / "missing.sqlite")
    assert missing.returncode == 2 and "no history database at" in missing.stderr
    assert not (tmp_path / "missing.sqlite").exists()


def test_snapshot_then_diff_without_a_database(tmp_path: Path) -> None:
    inventory = tmp_path / "inventory.yaml"
    inventory.write_text("hosts:\n  localhost: {transport: local}\n")
    before, after = tmp_path / "before.json", tmp_path / "after.json"
    for path in (before, after):
        done = fleetaudit("snapshot", inventory, "-o", path, state=tmp_path)
        assert done.returncode == 0, done.stderr
    assert json.loads(before.read_text())["hosts"][0]["status"] == "ok"
    done = fleetaudit("diff", before, after)
    assert done.returncode in (0, 1) and done.stdout.startswith("DIFF ")
    assert not (tmp_path / "fleetaudit" / "history.sqlite").exists(), "snapshot keeps no history"


def test_snapshot_records_findings_and_says_it_exits_0(tmp_path: Path) -> None:
    inventory = tmp_path / "inventory.yaml"
    inventory.write_text("hosts:\n  localhost: {transport: local}\n")
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]
        policy = tmp_path / "policy.yaml"
        policy.write_text(
            "version: 1\nrules:\n  - id: not-on-loopback\n    kind: bind-scope\n"
            "    description: a test rule that every loopback listener on the port breaks\n"
            f"    severity: critical\n    match: {{port: {port}}}\n    allow: [public]\n"
        )
        gate = fleetaudit("run", inventory, "--policy", policy, "--no-history", state=tmp_path)
        snap = tmp_path / "snap.json"
        done = fleetaudit("snapshot", inventory, "--policy", policy, "-o", snap, state=tmp_path)
    assert gate.returncode == 1, gate.stderr
    assert done.returncode == 0, done.stderr
    assert "not-on-loopback" in {f["rule_id"] for f in json.loads(snap.read_text())["findings"]}
    summary = done.stderr.strip().splitlines()[-1]
    assert summary.endswith("; exit 0") and "at or above" not in summary, summary


def test_read_only_commands_create_no_database_or_directory(tmp_path: Path) -> None:
    state = tmp_path / "state"
    other = tmp_path / "b.json"
    assert fleetaudit("demo", "-o", f"json={other}").returncode == 0
    typo = fleetaudit("diff", "typo.json", other, state=state)
    assert typo.returncode == 2
    assert "typo.json: no such file" in typo.stderr, typo.stderr
    bare = fleetaudit("diff", "20261124", state=state)
    assert bare.returncode == 2 and "no history database at" in bare.stderr, bare.stderr
    listed = fleetaudit("history", "--db", tmp_path / "nonexist" / "dir" / "h.sqlite")
    assert listed.returncode == 2, listed.stderr
    assert "no history database at" in listed.stderr and "no run recorded yet" in listed.stderr
    assert not state.exists() and not (tmp_path / "nonexist").exists()


def test_run_refuses_a_foreign_database_and_leaves_it_alone(tmp_path: Path) -> None:
    inventory = tmp_path / "inventory.yaml"
    inventory.write_text("hosts:\n  localhost: {transport: local}\n")
    db = tmp_path / "other.sqlite"
    with sqlite3.connect(db) as raw:
        raw.execute("CREATE TABLE notes (body TEXT)")
    raw.close()
    before = db.read_bytes()
    for args in (("run", inventory, "--fail-on", "critical"), ("history",)):
        done = fleetaudit(*args, "--db", db)
        assert done.returncode == 2, done.stderr
        assert f"{db} is not a fleetaudit history database" in done.stderr
        assert db.read_bytes() == before


def test_retention_that_fails_once_the_run_is_recorded_is_a_warning(tmp_path: Path) -> None:
    """The night is in the history with its exit code; failing the run for the old runs
    left undeleted would exit 2 against a recorded 0 or 1, and say the run was lost."""
    inventory, db = tmp_path / "inventory.yaml", tmp_path / "history.sqlite"
    inventory.write_text("hosts:\n  localhost: {transport: local}\n")
    for _ in range(2):  # the older is deleted; the later one the next diff compares with
        first = fleetaudit("run", inventory, "--db", db, "-o", "json=/dev/null", state=tmp_path)
        assert first.returncode in (0, 1), first.stderr
    with sqlite3.connect(db) as history:
        history.execute(  # the older run is years old
            "UPDATE runs SET started_at = '2020-01-01T00:00:00+00:00' "
            "WHERE recorded = (SELECT min(recorded) FROM runs)"
        )
        history.execute(
            "CREATE TRIGGER keep BEFORE DELETE ON runs "
            "BEGIN SELECT RAISE(ABORT, 'simulated failure'); END"
        )
    done = fleetaudit(
        "run", inventory, "--db", db, "--keep-days", "30", "-o", "json=/dev/null", state=tmp_path
    )
    assert done.returncode in (0, 1), done.stderr
    assert "warning:" in done.stderr and "older runs were not all deleted" in done.stderr
    with sqlite3.connect(db) as history:
        codes = [code for (code,) in history.execute("SELECT exit_code FROM runs")]
    assert len(codes) == 3 and codes[-1] == done.returncode


def test_diff_says_what_a_path_that_is_no_report_file_is(tmp_path: Path) -> None:
    """QA: /dev/null read "no such file", and a directory was taken for a run id, the
    error blaming a missing history database."""
    (tmp_path / "reports").mkdir()
    for given, said in (
        ("/dev/null", "/dev/null: is not a regular file"),
        (str(tmp_path / "reports"), "reports: is a directory, not a report or snapshot file"),
    ):
        done = fleetaudit("diff", given, given, "--db", tmp_path / "h.sqlite", state=tmp_path)
        assert done.returncode == 2 and said in done.stderr, done.stderr
        assert "history database" not in done.stderr
