"""Ansible INI, YAML and ansible-inventory JSON sources: resolution, refusals, detection."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fleetaudit.errors import InventoryError
from fleetaudit.inventory import InventoryFormat, TransportKind, detect, load_inventory
from fleetaudit.inventory.model import Host, Inventory

FIXTURES = Path(__file__).parents[1] / "fixtures" / "ansible"
INI = FIXTURES / "ini" / "prod.ini"
YAML = FIXTURES / "yaml" / "prod.yml"


def by_name(inventory: Inventory) -> dict[str, Host]:
    return {host.name: host for host in inventory.hosts}


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def error(path: Path) -> InventoryError:
    with pytest.raises(InventoryError) as caught:
        load_inventory(path)
    return caught.value


def test_ini_with_group_vars_and_host_vars() -> None:
    inventory = load_inventory(INI)
    hosts = by_name(inventory)
    assert list(hosts)[:3] == ["bastion.example.com", "web01.example.com", "web02.example.com"]
    assert [n for n in hosts if n.startswith("node")] == ["node1", "node4", "node7", "node10"]
    db_b, db_z = hosts["db-b"], hosts["db-z"]
    assert (db_b.address, db_b.port, db_b.user, db_b.become) == ("192.0.2.11", 2222, "root", True)
    assert (db_z.address, db_z.port, db_z.user) == ("192.0.2.99", 2223, "dba")
    assert db_z.groups == ("prod", "db") and db_z.key == "~/.ssh/fleet_ed25519"
    assert hosts["web-canary.example.com"].port == 2202
    assert hosts["web01.example.com"].user == "audit"  # group_vars/all beats [prod:vars]
    assert hosts["localhost"].transport is TransportKind.LOCAL
    assert hosts["bastion.example.com"].groups == ("ungrouped",)
    origins = inventory.origins["db-b"]
    assert origins["address"] == f"{FIXTURES}/ini/host_vars/db-b.yml:1"
    assert origins["port"] == f"{FIXTURES}/ini/group_vars/db/connection.yml:1"
    assert origins["become"] == f"{INI}:22" and origins["transport"] == "default"


def test_yaml_inventory() -> None:
    inventory = load_inventory(YAML)
    hosts = by_name(inventory)
    assert (hosts["db1"].groups, hosts["db1"].port) == (("cache", "prod", "db"), 2222)
    assert hosts["db1"].key == "/etc/fleetaudit/cache_ed25519"
    assert (hosts["web9.example.com"].port, hosts["web9.example.com"].user) == (2201, "deploy")
    assert (hosts["web2.example.com"].port, hosts["web2.example.com"].become) == (2022, False)
    assert inventory.origins["web9.example.com"]["user"] == f"{YAML}:17"


def test_ansible_inventory_json_from_file(tmp_path: Path) -> None:
    document = {
        "_meta": {"hostvars": {"h1": {"ansible_host": "192.0.2.5", "ansible_port": 2200}}},
        "all": {"children": ["ungrouped", "web"]},
        "web": {"hosts": ["h1"], "children": ["edge"]},
        "edge": ["h2"],
        "ungrouped": {"hosts": ["h3"]},
    }
    path = write(tmp_path, "inv.json", json.dumps(document, indent=1))
    hosts = by_name(load_inventory(path))
    assert (hosts["h1"].address, hosts["h1"].port, hosts["h1"].groups) == (
        "192.0.2.5",
        2200,
        ("web",),
    )
    assert hosts["h2"].groups == ("web", "edge") and hosts["h3"].groups == ("ungrouped",)


def test_json_errors_name_the_line(tmp_path: Path) -> None:
    document = {"_meta": {"hostvars": {"h1": {"ansible_user": "root;reboot"}}}, "g": ["h1"]}
    problem = error(write(tmp_path, "inv.json", json.dumps(document, indent=2)))
    assert problem.line == 5 and problem.key == "_meta.hostvars.h1.ansible_user"
    vaulted = {
        "_meta": {"hostvars": {"h1": {"ansible_host": {"__ansible_vault": "x"}}}},
        "g": ["h1"],
    }
    assert "vault" in str(error(write(tmp_path, "v.json", json.dumps(vaulted))))


@pytest.mark.parametrize(
    ("name", "line", "key", "fragment"),
    [
        ("jinja.ini", 3, "web2.ansible_host", "give the setting a literal value"),
        ("vault.yml", 4, "ansible_user", "vault-encrypted"),
    ],
)
def test_templates_and_vault_are_refused(name: str, line: int, key: str, fragment: str) -> None:
    problem = error(FIXTURES / "refused" / name)
    assert (problem.line, problem.key) == (line, key)
    assert fragment in str(problem)


def test_vault_encrypted_vars_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "group_vars").mkdir()
    write(tmp_path / "group_vars", "all.yml", "$ANSIBLE_VAULT;1.1;AES256\n6162\n")
    problem = error(write(tmp_path, "hosts.ini", "[web]\nweb1\n"))
    assert problem.path == str(tmp_path / "group_vars" / "all.yml") and "vault" in str(problem)


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ("[web]\n-oProxyCommand=x\n", 2, "host name"),
        ("[web]\nweb1 ansible_host=-oProxyCommand=touch\n", 2, "not a host name"),
        ("[web]\nweb1 ansible_user='root;reboot'\n", 2, "not a login name"),
        ("[web]\nweb1 ansible_user=$(id)\n", 2, "not a login name"),
        ("[web]\nweb1 ansible_host=`id`\n", 2, "not a host name"),
        ("[web]\nweb1 ansible_ssh_private_key_file=-i\n", 2, "file path"),
        ("[web]\nweb1 ansible_port=70000\n", 2, "not a port"),
        ("[web]\nweb1 ansible_become=maybe\n", 2, "not a boolean"),
        ("[web]\nweb1 ansible_connection=local\n", 2, "localhost"),
        ("[web]\nweb1 ansible_connection=docker\n", 2, "not supported"),
        ("[web]\nweb[1:20000]\n", 2, "more than 10000 hosts"),
        ("[web]\nweb[5:1]\n", 2, "start <= end"),
        ("[web]\nweb1 = x\n", 2, "key=value"),
        ("[web:children]\ndb\n", 2, "never defined"),
        ("[web:bogus]\n", 1, "unknown kind"),
        ("[a:children]\nb\n[b:children]\na\n", None, "cycle"),
    ],
)
def test_ini_errors_name_file_and_line(
    tmp_path: Path, text: str, line: int | None, fragment: str
) -> None:
    problem = error(write(tmp_path, "hosts.ini", text))
    assert problem.path == str(tmp_path / "hosts.ini") and problem.line == line
    assert fragment in str(problem)


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("hosts.ini", "web1\n", InventoryFormat.ANSIBLE_INI),
        ("hosts", "[web]\nweb1\n", InventoryFormat.ANSIBLE_INI),
        ("hosts", "hosts:\n  web1: {}\n", InventoryFormat.NATIVE),
        ("inv.yml", "all:\n  hosts: {web1: null}\n", InventoryFormat.ANSIBLE_YAML),
        ("inv.yml", "web:\n  hosts: {web1: null}\n", InventoryFormat.ANSIBLE_YAML),
        ("inv.yml", "defaults: {}\nhosts: {web1: {}}\n", InventoryFormat.NATIVE),
        ("inv.json", '{"_meta": {"hostvars": {}}, "g": ["a"]}', InventoryFormat.ANSIBLE_JSON),
        ("inv.json", '{"hosts": {"web1": {}}}', InventoryFormat.NATIVE),
    ],
)
def test_format_detection(name: str, text: str, expected: InventoryFormat) -> None:
    assert detect(Path(name), text) is expected


def test_native_ranges_keep_padding_and_lines(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "inv.yaml",
        "hosts:\n  web[08:10].example.com: {port: 2200}\ngroups:\n  db:\n"
        "    hosts: ['db-[a:c]', 'n[1:10:4]']\n",
    )
    inventory = load_inventory(path)
    assert [h.name for h in inventory.hosts] == [
        "web08.example.com", "web09.example.com", "web10.example.com",
        "db-a", "db-b", "db-c", "n1", "n5", "n9",
    ]  # fmt: skip
    assert inventory.origins["web09.example.com"]["port"] == f"{path}:2"
    problem = error(write(tmp_path, "bad.yaml", "hosts:\n  web[1:x]: {}\n"))
    assert problem.line == 2 and "two numbers or two single letters" in str(problem)


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("hosts", "web1\nweb2:2222\ndb1 ansible_port=2201 ansible_user=audit\n"),
        ("hosts.cfg", "# fleet\n[web]\nweb1\n"),
        ("inventory.txt", "[web]\nweb1\n[db]\ndb1\n"),
    ],
)
def test_an_ini_inventory_named_otherwise_is_told_to_be_named_ini(
    tmp_path: Path, name: str, text: str
) -> None:
    """The classic `hosts` file (hosts only, no [group]) and INI files named .cfg or .txt
    are read as fleetaudit's YAML by their names: the error says how to have them read."""
    problem = error(write(tmp_path, name, text))
    assert problem.message.endswith("if it is an Ansible INI inventory, name it *.ini)")
    renamed = load_inventory(write(tmp_path, f"{name}.ini", text))
    assert renamed.hosts


def test_an_inventory_directory_is_told_to_go_through_ansible_inventory(tmp_path: Path) -> None:
    problem = error(tmp_path)
    assert "is a directory: give the inventory file" in problem.message
    assert "ansible-inventory -i DIR --list > inv.json" in problem.message
