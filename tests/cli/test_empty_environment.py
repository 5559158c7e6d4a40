"""An option's variable set to nothing is refused: click reads an empty one as unset, so a
cron line whose `$DB` was unset recorded the night in the default database, and an empty
FLEETAUDIT_OUTPUT sent the report to the cron mail instead of its file (QA)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from fleetaudit.cli.options import ENVIRONMENT_SETTINGS
from tests.runcli import fleetaudit


@pytest.mark.parametrize("name", ENVIRONMENT_SETTINGS)
def test_an_empty_option_variable_is_refused(tmp_path: Path, name: str) -> None:
    inventory = tmp_path / "inv.yaml"
    inventory.write_text("hosts:\n  localhost: {transport: local}\n")
    done = fleetaudit("run", inventory, env={name: ""}, state=tmp_path)
    assert done.returncode == 2, done.stderr
    assert f"{name} is set but empty: give a value, or unset it" in done.stderr
    assert not (tmp_path / "fleetaudit").exists()  # no default database made, no run
    assert done.stdout == ""  # no report on stdout instead of the file meant
    helped = fleetaudit("run", "--help", env={name: " "}, state=tmp_path)
    assert helped.returncode == 0 and "Usage:" in helped.stdout


def test_every_variable_the_options_read_is_checked() -> None:
    options = Path(__file__).parents[2] / "fleetaudit" / "cli" / "options.py"
    read = set(re.findall(r'envvar="(FLEETAUDIT_\w+)"', options.read_text()))
    assert len(read) >= 5 and read <= set(ENVIRONMENT_SETTINGS)
