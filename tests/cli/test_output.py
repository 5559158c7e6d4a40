"""Report files are replaced atomically and never left half-written."""

import json
import os
from pathlib import Path

import pytest

from fleetaudit.cli.output import write_atomically
from fleetaudit.errors import InputError


def test_replaces_existing_file_completely(tmp_path):
    target = tmp_path / "report.json"
    target.write_text("old report that is longer than the new one\n")
    write_atomically(target, "new\n")
    assert target.read_text() == "new\n"
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]  # no temp file left


def test_unwritable_directory_is_a_clear_error(tmp_path):
    if os.geteuid() == 0:
        missing = tmp_path / "no" / "such" / "dir" / "r.json"
        with pytest.raises(InputError, match="cannot write output file"):
            write_atomically(missing, "x")
    else:
        tmp_path.chmod(0o500)
        with pytest.raises(InputError, match="cannot write output file"):
            write_atomically(tmp_path / "r.json", "x")


def test_several_outputs_in_one_run(tmp_path: Path) -> None:
    from tests.runcli import fleetaudit

    targets = {fmt: tmp_path / f"report.{fmt}" for fmt in ("json", "prom", "sarif", "junit")}
    args = [f"--output={fmt}={path}" for fmt, path in targets.items()]
    done = fleetaudit("demo", *args, "--output", "-", "--format", "markdown")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("## fleetaudit:")
    assert json.loads(targets["json"].read_text())["schema_version"] == 1
    assert "fleetaudit_hosts" in targets["prom"].read_text()
    assert json.loads(targets["sarif"].read_text())["version"] == "2.1.0"
    assert targets["junit"].read_text().startswith("<?xml")
    bad = fleetaudit("demo", "--output", "xml=x")
    assert bad.returncode == 2 and "unknown format 'xml'" in bad.stderr
