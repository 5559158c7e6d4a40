"""ansible_become_user and ansible_become_method: fleetaudit becomes root through `sudo -n`
only, so another user or method is refused at its file and line, never ignored."""

from __future__ import annotations

from pathlib import Path

import pytest

from fleetaudit.errors import InventoryError
from fleetaudit.inventory import load_inventory


@pytest.mark.parametrize(
    ("variable", "value"),
    [("ansible_become_user", "postgres"), ("ansible_become_method", "su")],
)
def test_another_become_user_or_method_is_refused_at_its_line(
    tmp_path: Path, variable: str, value: str
) -> None:
    inventory = tmp_path / "hosts.ini"
    inventory.write_text(f"[db]\ndb1 ansible_host=192.0.2.1\n[db:vars]\nansible_become=yes\n"
                         f"{variable}={value}\n")  # fmt: skip
    with pytest.raises(InventoryError) as caught:
        load_inventory(inventory)
    message = str(caught.value)
    assert f"{inventory}:5" in message and variable in message
    assert f"'{value}' is not supported: fleetaudit becomes root through `sudo -n` only" in message


def test_root_through_sudo_or_no_become_at_all_is_accepted(tmp_path: Path) -> None:
    inventory = tmp_path / "hosts.ini"
    inventory.write_text(
        "[db]\ndb1 ansible_become=yes ansible_become_user=root "
        "ansible_become_method=ansible.builtin.sudo\n"
        "db2 ansible_become=no ansible_become_user=postgres ansible_become_method=su\n"
    )
    hosts = {h.name: h.become for h in load_inventory(inventory).hosts}
    assert hosts == {"db1": True, "db2": False}
