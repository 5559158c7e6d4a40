"""An option's variable set to nothing is refused when the command reads it and the option
is not given: click reads an empty one as unset, so a cron line whose `$DB` was unset
recorded the night in the default database, and an empty FLEETAUDIT_OUTPUT sent the report
to the cron mail instead of its file (QA)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.runcli import fleetaudit

OPTIONS = Path(__file__).parents[2] / "fleetaudit" / "cli" / "options.py"
VARIABLES = sorted(set(re.findall(r'envvar="(FLEETAUDIT_\w+)"', OPTIONS.read_text())))


def test_the_options_read_the_variables_this_test_checks() -> None:
    assert VARIABLES == [
        "FLEETAUDIT_CONCURRENCY",
        "FLEETAUDIT_DB",
        "FLEETAUDIT_FAIL_ON",
        "FLEETAUDIT_FORMAT",
        "FLEETAUDIT_POLICY",
    ]


@pytest.mark.parametrize("name", [*VARIABLES, "FLEETAUDIT_OUTPUT"])
def test_an_empty_option_variable_is_refused(tmp_path: Path, name: str) -> None:
    inventory = tmp_path / "inv.yaml"
    inventory.write_text("hosts:\n  localhost: {transport: local}\n")
    done = fleetaudit("run", inventory, env={name: ""}, state=tmp_path)
    assert done.returncode == 2, done.stderr
    assert f"{name} is set but empty: give it a value, or unset it" in done.stderr
    assert not (tmp_path / "fleetaudit").exists()  # no default database made, no run
    assert done.stdout == ""  # no report on stdout instead of the file meant
    helped = fleetaudit("run", "--help", env={name: " "}, state=tmp_path)
    assert helped.returncode == 0 and "Usage:" in helped.stdout


def test_an_empty_variable_the_command_does_not_use_is_no_error(tmp_path: Path) -> None:
    """QA: refused also where the option was given, or the command has no such option."""
    inventory = tmp_path / "inv.yaml"
    inventory.write_text("hosts:\n  localhost: {transport: local}\n")
    report, db = f"json={tmp_path}/r.json", tmp_path / "h.sqlite"
    given = fleetaudit(
        "run", inventory, "--db", db, "-o", report, env={"FLEETAUDIT_DB": ""}, state=tmp_path
    )
    assert given.returncode in (0, 1), given.stderr
    unused = fleetaudit("inventory", "check", inventory, env={"FLEETAUDIT_DB": ""})
    assert unused.returncode == 0, unused.stderr
