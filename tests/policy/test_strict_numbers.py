"""YAML 1.1 number spellings a person rarely means (``023`` is octal 19, ``0x17``, ``2_3``,
``1:30`` base 60) are errors at their file, line and column with the decimal to write,
in policies and in native inventories (both read through yamlsource)."""

from __future__ import annotations

from pathlib import Path

import pytest

from fleetaudit.errors import InventoryError, PolicyError
from fleetaudit.inventory import load_inventory
from fleetaudit.policy import load_policy

POLICY = """\
version: 1
rules:
  - id: no-telnet
    kind: forbidden
    severity: high
    description: d
    match:
      port: %s
"""


def policy_error(tmp_path: Path, port: str) -> str:
    path = tmp_path / "p.yaml"
    path.write_text(POLICY % port, encoding="utf-8")
    with pytest.raises(PolicyError) as caught:
        load_policy(path)
    return str(caught.value)


@pytest.mark.parametrize(
    ("written", "column", "says"),
    [
        ("023", 13, "'023' has a leading zero, which YAML 1.1 reads as octal (19); write 23"),
        ("[023, 3306]", 14, "reads as octal (19); write 23"),
        ("0x17", 13, "'0x17' is a hexadecimal number (23); write it in decimal: 23"),
        ("0b10111", 13, "binary number (23); write it in decimal: 23"),
        ("2_3", 13, "'2_3' has '_' digit separators, which YAML 1.1 drops (23); write 23"),
        ("1:30", 13, "'1:30' is a base-60 number in YAML 1.1 (90); write 90"),
        ("00", 13, "write 0"),
    ],
)
def test_a_yaml_1_1_integer_is_an_error_with_the_number_to_write(
    tmp_path: Path, written: str, column: int, says: str
) -> None:
    text = policy_error(tmp_path, written)
    assert text.startswith(f"{tmp_path / 'p.yaml'}:8:{column}: rules.0.match.port")
    assert says in text


@pytest.mark.parametrize(("written", "port"), [("23", 23), ('"023"', 23), ("+23", 23)])
def test_plain_and_quoted_ports_still_load(tmp_path: Path, written: str, port: int) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(POLICY % written, encoding="utf-8")
    [rule] = load_policy(path).rules
    assert rule.match.port == ((port, port),)  # type: ignore[attr-defined]


def test_a_float_with_digit_separators_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    body = "  - {id: b, kind: backlog, severity: low, description: d, fraction: 0_0.8}\n"
    path.write_text("version: 1\nrules:\n" + body, encoding="utf-8")
    with pytest.raises(PolicyError) as caught:
        load_policy(path)
    assert "rules.0.fraction: '0_0.8' is a YAML 1.1 number spelling" in str(caught.value)


def test_an_octal_looking_port_in_a_native_inventory_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "hosts.yaml"
    path.write_text("hosts:\n  db1: {address: 127.0.0.1, port: 022}\n", encoding="utf-8")
    with pytest.raises(InventoryError) as caught:
        load_inventory(path)
    assert str(caught.value) == (
        f"{path}:2:35: hosts.db1.port: '022' has a leading zero, which YAML 1.1 reads as "
        "octal (18); write 22"
    )
