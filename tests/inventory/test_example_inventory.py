"""The shipped example inventory: the command its header gives to check it works."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from tests.runcli import fleetaudit

ROOT = Path(__file__).parents[2]


def test_the_check_command_in_the_header_validates_the_example() -> None:
    header = (ROOT / "inventories" / "example.yaml").read_text()
    found = re.search(r"^# Check it without connecting anywhere:\s+(.+)$", header, re.M)
    assert found is not None
    program, *args = shlex.split(found.group(1))
    assert program == "fleetaudit"
    done = fleetaudit(*[ROOT / a if a.startswith("inventories/") else a for a in args])
    assert done.returncode == 0, done.stderr
    assert "valid;" in done.stderr and done.stdout == ""
