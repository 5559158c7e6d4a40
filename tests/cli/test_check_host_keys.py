"""`fleetaudit check` makes no SSH connection, so its reports claim no host-key check.

A reviewer reads the report: before, a check run said "host keys: strict" and every host
``host_key_checked: true``, although no host key was ever seen.
"""

from __future__ import annotations

import json
import shutil
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema

from fleetaudit.history import load_run_file
from fleetaudit.model import HostKeyPolicy
from fleetaudit.policy import evaluate, load_default_policy
from tests.factories import snapshot, sock
from tests.runcli import fleetaudit

DEMO = Path(str(resources.files("fleetaudit").joinpath("data", "demo")))
CAPTURES = Path(__file__).parents[1] / "fixtures" / "captures"
NOT_APPLICABLE = "not applicable (saved captures, no SSH)"


def _captures(tmp: Path) -> list[Path]:
    """Two real captures: the demo's db1 (ss) and a netstat listing taken as root."""
    return [
        Path(shutil.copy(DEMO / "db1.ss.txt", tmp / "db1.ss.txt")),
        Path(shutil.copy(CAPTURES / "netstat-tuanpeW-root.txt", tmp / "app9.txt")),
    ]


def _json_report(tmp: Path) -> dict[str, Any]:
    done = fleetaudit("check", *_captures(tmp), "--format", "json")
    assert done.returncode in (0, 1), done.stderr
    report: dict[str, Any] = json.loads(done.stdout)
    return report


def test_table_header_says_host_keys_do_not_apply(tmp_path: Path) -> None:
    done = fleetaudit("check", *_captures(tmp_path))
    assert done.returncode in (0, 1), done.stderr
    [line] = [row for row in done.stdout.splitlines() if row.startswith("host keys")]
    assert line.split(None, 2)[2] == NOT_APPLICABLE
    assert "strict" not in line


def test_markdown_and_html_headers_say_host_keys_do_not_apply(tmp_path: Path) -> None:
    captures = _captures(tmp_path)
    markdown = fleetaudit("check", *captures, "--format", "markdown").stdout
    assert f"- **Host keys:** {NOT_APPLICABLE}\n" in markdown
    html = fleetaudit("check", *captures, "--format", "html").stdout
    assert f"host keys {NOT_APPLICABLE}.</p>" in html


def test_json_report_claims_no_host_key_check_and_no_coverage_gap(tmp_path: Path) -> None:
    report = _json_report(tmp_path)
    assert report["run"]["host_key_policy"] == "not-applicable"
    assert {h["host"]: h["host_key_checked"] for h in report["hosts"]} == {
        "db1": None,
        "app9": None,
    }
    assert report["summary"]["hosts_without_host_key_check"] == []
    coverage = [f["message"] for f in report["findings"] if f["rule_id"] == "audit-coverage"]
    assert coverage, "db1 is unprivileged: the coverage rule did run"
    assert not [m for m in coverage if "host-key" in m]


def test_json_report_of_a_check_run_validates_against_the_shipped_schema(
    tmp_path: Path,
) -> None:
    shipped = json.loads(
        resources.files("fleetaudit").joinpath("data", "report.schema.json").read_text()
    )
    jsonschema.validate(_json_report(tmp_path), shipped)


def test_reports_with_and_without_the_flag_load_back(tmp_path: Path) -> None:
    """A check report loads (merge and diff read files this way), and so does one an older
    version wrote, which said ``strict`` and ``true`` for captures."""
    report = _json_report(tmp_path)
    new = tmp_path / "new.json"
    new.write_text(json.dumps(report))
    loaded = load_run_file(new)
    assert loaded.host_key_policy is HostKeyPolicy.NOT_APPLICABLE
    assert {s.host_key_checked for s in loaded.snapshots} == {None}
    report["run"]["host_key_policy"] = "strict"
    for host in report["hosts"]:
        host["host_key_checked"] = True
    old = tmp_path / "old.json"
    old.write_text(json.dumps(report))
    assert {s.host_key_checked for s in load_run_file(old).snapshots} == {True}
    done = fleetaudit("diff", old, new)
    assert done.returncode == 0, done.stdout + done.stderr  # the same sockets and findings


def test_coverage_rule_flags_a_skipped_check_but_not_a_capture() -> None:
    rules = load_default_policy()
    ssh = snapshot("web2", sock("0.0.0.0", 22, "sshd"), host_key_checked=False)
    capture = snapshot("web2", sock("0.0.0.0", 22, "sshd"), host_key_checked=None)
    assert [f for f in evaluate(ssh, rules) if "host-key" in f.message]
    assert not [f for f in evaluate(capture, rules) if "host-key" in f.message]


def test_help_names_the_capture_argument_once() -> None:
    done = fleetaudit("check", "--help")
    assert "check [OPTIONS] {CAPTURE}...\n" in done.stdout
    assert "CAPTURE...}" not in done.stdout
