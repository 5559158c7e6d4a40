"""A file of one kind given where another is read: said as such, in one line, instead of
the parse errors of reading it as the wrong kind (QA)."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import pytest

from tests.runcli import fleetaudit

DEMO = Path(str(resources.files("fleetaudit").joinpath("data", "demo")))


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("report") / "night.json"
    done = fleetaudit("demo", "-f", "json", "-o", path)
    assert done.returncode == 0, done.stderr
    assert {"schema_version", "run", "hosts"} <= json.loads(path.read_text()).keys()
    return path


@pytest.mark.parametrize(
    ("command", "meant"),
    [
        (["policy", "lint", "{report}"], "a policy"),
        (["check", str(DEMO / "db1.ss.txt"), "--policy", "{report}"], "a policy"),
        (["inventory", "check", "{report}"], "an inventory"),
        (["run", "{report}", "--no-history"], "an inventory"),
    ],
)
def test_a_report_given_as_a_policy_or_an_inventory_is_named_as_a_report(
    report: Path, command: list[str], meant: str
) -> None:
    """It was validated as the YAML it is: 20 errors about unknown and empty keys."""
    done = fleetaudit(*(str(report) if part == "{report}" else part for part in command))
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.splitlines() == [
        f"fleetaudit: error: {report}:1: this is a fleetaudit JSON report (or snapshot), not "
        f"{meant}: reports are read by `diff` and `merge`"
    ]


def test_diff_of_what_is_no_json_says_what_it_is(report: Path, tmp_path: Path) -> None:
    """Python's "Expecting value: line 1 column 1 (char 0)" said nothing of the file."""
    listing = tmp_path / "web1.ss.txt"
    listing.write_text((DEMO / "db1.ss.txt").read_text())
    done = fleetaudit("diff", report, listing)
    assert done.returncode == 2
    assert (
        f"{listing}: this is a socket listing, not a run: a JSON report (`run -f json`) or a "
        in (done.stderr)
    )
    assert "(`check` judges a listing)" in done.stderr
    inventory = tmp_path / "inventory.yaml"
    inventory.write_text("hosts:\n  web1: {}\n")
    done = fleetaudit("merge", report, inventory)
    assert done.returncode == 2
    assert "it is not JSON (Expecting value at line 1, column 1)" in done.stderr
    empty = tmp_path / "empty.json"
    empty.write_text("")
    done = fleetaudit("diff", empty, report)
    assert f"{empty}: cannot read a run from this file: it is empty" in done.stderr
