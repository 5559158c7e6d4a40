"""What only Ansible can run (an inventory script, a plugin's config) or read (an inline
host list) is refused saying so, with the way through ansible-inventory. QA: these gave
"a group is a mapping ...", "unknown key", "invalid YAML" or "cannot read file"."""

from __future__ import annotations

from pathlib import Path

import pytest

from fleetaudit.errors import InventoryError
from fleetaudit.inventory import load_inventory


@pytest.mark.parametrize(
    ("name", "text", "line", "said"),
    [
        ("aws_ec2.yml", "# EC2\nplugin: amazon.aws.aws_ec2\nregions: [eu-west-1]\n", 2,
         "an inventory plugin's config (plugin: amazon.aws.aws_ec2), which only Ansible runs"),
        ("gen.config", "plugin: 'ansible.builtin.generator'  # hosts from layers\n", 1,
         "(plugin: ansible.builtin.generator)"),
        ("inventory.py", "#!/usr/bin/env python3\nprint('{}')\n", 1,
         "an inventory script (it starts with #!), which only Ansible runs"),
    ],
)  # fmt: skip
def test_scripts_and_plugin_configs_are_named(
    tmp_path: Path, name: str, text: str, line: int, said: str
) -> None:
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(InventoryError) as caught:
        load_inventory(path)
    assert caught.value.line == line
    assert said in caught.value.message
    assert f"`ansible-inventory -i {path} --list > inv.json`" in caught.value.message


def test_a_group_named_plugin_is_still_a_group(tmp_path: Path) -> None:
    path = tmp_path / "inv.yml"
    path.write_text("plugin:\n  hosts:\n    web1: {ansible_host: 127.0.0.1}\n")
    assert [host.name for host in load_inventory(path).hosts] == ["web1"]


def test_an_inline_host_list_is_named(tmp_path: Path) -> None:
    with pytest.raises(InventoryError, match="Ansible's inline host list"):
        load_inventory(tmp_path / "web1,web2,")
