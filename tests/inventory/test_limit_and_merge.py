"""``--limit`` with an empty pattern, and one host given conflicting settings by two groups."""

from __future__ import annotations

from pathlib import Path

import pytest

from fleetaudit.errors import InventoryError
from fleetaudit.inventory import load_inventory, select_hosts
from fleetaudit.inventory.model import Inventory

FLEET = "hosts:\n  web1: {groups: [web]}\n  web2: {groups: [web]}\n  db1: {groups: [db]}\n"


def load(tmp_path: Path, text: str) -> Inventory:
    path = tmp_path / "inventory.yaml"
    path.write_text(text)
    return load_inventory(path)


@pytest.mark.parametrize("patterns", [[""], ["  "], [","], ["web,"], ["web", ""], ["!"], [" ! "]])
def test_an_empty_limit_pattern_is_an_error_not_the_whole_fleet(
    tmp_path: Path, patterns: list[str]
) -> None:
    inventory = load(tmp_path, FLEET)
    with pytest.raises(InventoryError, match="empty pattern") as caught:
        select_hosts(inventory, patterns)
    assert repr(next(p for p in patterns if not p.strip(" ,!") or "," in p)) in str(caught.value)


def test_no_limit_at_all_still_means_every_host(tmp_path: Path) -> None:
    inventory = load(tmp_path, FLEET)
    assert [h.name for h in select_hosts(inventory, [])] == ["web1", "web2", "db1"]
    assert [h.name for h in select_hosts(inventory, [" web1 , db1 "])] == ["web1", "db1"]


CONFLICT = """\
groups:
  a:
    hosts:
      h1: {address: 127.0.0.5}
  b:
    hosts:
      h1: {address: 127.0.0.6}
"""


def test_two_groups_giving_one_host_two_values_is_an_error_naming_both(tmp_path: Path) -> None:
    with pytest.raises(InventoryError) as caught:
        load(tmp_path, CONFLICT)
    problem = caught.value
    assert (problem.line, problem.key) == (7, "groups.b.hosts.h1.address")
    message = str(problem)
    assert f"{tmp_path / 'inventory.yaml'}:4 (groups.a.hosts.h1)" in message
    assert "'127.0.0.5'" in message and "'127.0.0.6'" in message


def test_conflicts_between_parent_and_child_groups_hosts_too(tmp_path: Path) -> None:
    text = CONFLICT.replace("  b:\n", "  b:\n    children: [a]\n").replace("address", "port")
    text = text.replace("127.0.0.5", "2201").replace("127.0.0.6", "2202")
    with pytest.raises(InventoryError, match="gets port 2201 here and 2202 at .*:8 "):
        load(tmp_path, text)


def test_agreeing_groups_or_a_host_entry_settle_it(tmp_path: Path) -> None:
    [same] = load(tmp_path, CONFLICT.replace("127.0.0.6", "127.0.0.5")).hosts
    assert same.address == "127.0.0.5"
    [settled] = load(tmp_path, CONFLICT + "hosts:\n  h1: {address: 127.0.0.7}\n").hosts
    assert settled.address == "127.0.0.7"


def test_group_vars_keep_their_documented_order(tmp_path: Path) -> None:
    text = "hosts:\n  h1: {groups: [a, b]}\ngroups:\n  a: {vars: {port: 2201}}\n"
    [host] = load(tmp_path, text + "  b: {vars: {port: 2202}}\n").hosts
    assert host.port == 2202  # equal depth: by name, the later group wins (as documented)
