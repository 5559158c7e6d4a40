"""`fleetaudit demo`: the simulated fleet, audited over real SSH connections on loopback."""

from __future__ import annotations

import json

from tests.runcli import fleetaudit


def findings_of(report: dict, host: str) -> set[str]:
    return {f["rule_id"] for f in report["findings"] if f["host"] == host}


def test_demo_reports_every_planted_problem_and_exits_0(tmp_path):
    out = tmp_path / "demo.json"
    done = fleetaudit("demo", "--format", "json", "--output", out)
    assert done.returncode == 0, done.stderr
    assert "would have exited 2" in done.stderr  # down1 could not be audited
    report = json.loads(out.read_text())
    status = {h["host"]: h["status"] for h in report["hosts"]}
    assert status == {
        "web1": "ok",
        "db1": "ok",
        "app1": "ok",
        "legacy1": "ok",
        "cache1": "ok",
        "down1": "unreachable",
    }
    assert all(h["host_key_checked"] for h in report["hosts"] if h["status"] == "ok")
    # Each simulated host says its ephemeral port range, as the collection script does.
    assert all(h["ephemeral_ports"] == [32768, 60999] for h in report["hosts"] if h["tool"])
    assert "datastores-private-on-db-hosts" in findings_of(report, "db1")
    assert "listen-backlog" in findings_of(report, "app1")
    assert "socket-queues" in findings_of(report, "app1")
    assert "no-telnet" in findings_of(report, "legacy1")
    assert "audit-coverage" in findings_of(report, "cache1")
    assert "datastores-private-on-db-hosts" in findings_of(report, "cache1")
    legacy = next(h for h in report["hosts"] if h["host"] == "legacy1")
    assert legacy["tool"] == "netstat"


def test_demo_table_is_readable(tmp_path):
    done = fleetaudit("demo")
    assert done.returncode == 0, done.stderr
    for text in ("db1", "mysqld", "3306", "unreachable", "no-telnet"):
        assert text in done.stdout
