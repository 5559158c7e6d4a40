"""Unquoted dates the calendar lacks: YAML resolves them as timestamps, and PyYAML fails
late with a bare ValueError. Policies and inventories must name the file, line and key."""

from pathlib import Path

import pytest

from fleetaudit.errors import InventoryError, PolicyError
from fleetaudit.inventory import load_inventory
from fleetaudit.policy import load_policy

POLICY = """\
version: 1
rules:
  - {id: no-telnet, kind: forbidden, severity: high, description: d, match: {port: 23}}
waivers:
  - {rule: no-telnet, select: {hosts: [h1]}, reason: r, expires: %s}
"""


@pytest.mark.parametrize("date", ["2020-02-30", "2021-02-29", "2020-13-01", "0000-01-01"])
def test_impossible_waiver_date_names_file_line_and_key(tmp_path: Path, date: str) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(POLICY % date)
    with pytest.raises(PolicyError) as info:
        load_policy(path)
    text = str(info.value)
    assert text.startswith(f"{path}:5:") and "waivers.0.expires" in text
    assert f"invalid date '{date}'" in text


def test_a_valid_date_still_loads(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(POLICY % "2099-02-28")
    assert load_policy(path).waivers[0].expires.isoformat() == "2099-02-28"


def test_impossible_date_in_an_inventory_label(tmp_path: Path) -> None:
    path = tmp_path / "hosts.yaml"
    path.write_text("hosts:\n  h1:\n    address: 127.0.0.1\n    labels: {since: 2020-02-30}\n")
    with pytest.raises(InventoryError) as info:
        load_inventory(path)
    assert str(info.value).startswith(f"{path}:4:") and "hosts.h1.labels.since" in str(info.value)
