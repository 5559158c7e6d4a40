"""What Ansible accepts is accepted, and what it would read differently is refused: --limit
patterns, duplicate YAML keys, booleans, connection plugin names, IPv6 host lines; plus a
native host naming a group that is almost a declared one."""

from __future__ import annotations

from pathlib import Path

import pytest

from fleetaudit.errors import InventoryError
from fleetaudit.inventory import TransportKind, load_inventory, select_hosts
from fleetaudit.inventory.model import Inventory
from tests.runcli import fleetaudit

FLEET_INI = "[web]\nweb1\nweb2\n[db]\ndb1\n[prod:children]\nweb\ndb\n[canary]\nweb2\ndb1\n"


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.fixture
def fleet(tmp_path: Path) -> Inventory:
    return load_inventory(write(tmp_path, "hosts.ini", FLEET_INI))


def names(inventory: Inventory, *patterns: str) -> list[str]:
    return [host.name for host in select_hosts(inventory, patterns)]


@pytest.mark.parametrize(
    ("patterns", "expected"),
    [
        (["all"], ["web1", "web2", "db1"]),
        (["all", "!db1"], ["web1", "web2"]),
        (["web:db"], ["web1", "web2", "db1"]),
        (["prod:&canary"], ["web2", "db1"]),
        (["&canary:prod"], ["web2", "db1"]),  # & applies after the plain patterns
        (["prod:!canary"], ["web1"]),
        (["!canary"], ["web1"]),
        (["&canary"], ["web2", "db1"]),
        (["web", "&canary"], ["web2"]),
        (["web*:db?"], ["web1", "web2", "db1"]),
    ],
)
def test_ansible_pattern_operators(
    fleet: Inventory, patterns: list[str], expected: list[str]
) -> None:
    assert names(fleet, *patterns) == expected


@pytest.mark.parametrize(
    ("pattern", "fragment"),
    [
        ("~web[0-9]+", "regex patterns (~REGEX) are not supported"),
        ("web[0]", "subscripts"),
        ("web[1:2]", "subscripts"),
        ("web[-1]", "subscripts"),
        ("db,web[0:1]", "subscripts"),
        ("!web[0]", "subscripts"),
        ("@retry.txt", "(@FILE) is not supported"),
    ],
)
def test_unsupported_ansible_syntax_says_so(fleet: Inventory, pattern: str, fragment: str) -> None:
    with pytest.raises(InventoryError) as caught:
        select_hosts(fleet, [pattern])
    message = caught.value.message
    assert fragment in message and "matches no host" not in message
    assert "'!glob'" in message and "repeated --limit" in message


def test_intersection_that_matches_nothing_is_still_an_error(fleet: Inventory) -> None:
    with pytest.raises(InventoryError, match="'&canery' matches no host"):
        select_hosts(fleet, ["web:&canery"])


def test_limit_all_through_the_cli(tmp_path: Path) -> None:
    path = write(tmp_path, "hosts.ini", FLEET_INI)
    done = fleetaudit("inventory", "list", path, "--limit", "all", "--format", "json")
    assert done.returncode == 0, done.stderr
    assert all(name in done.stdout for name in ("web1", "web2", "db1"))
    done = fleetaudit("inventory", "list", path, "--limit", "web[0]")
    assert done.returncode == 2
    assert "subscripts" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.parametrize(
    "text",
    [
        "all: {hosts: {web1: {ansible_port: 22}, web1: {ansible_port: 23}}}\n",
        "all:\n  hosts:\n    web1:\n      ansible_port: 22\n      ansible_port: 23\n",
    ],
)
def test_ansible_yaml_duplicate_keys_are_refused(tmp_path: Path, text: str) -> None:
    path = write(tmp_path, "hosts.yml", text)
    with pytest.raises(InventoryError, match="duplicate key") as caught:
        load_inventory(path)
    second = text.rindex("web1") if text.count("web1") == 2 else text.rindex("ansible_port")
    line = text.count("\n", 0, second) + 1
    column = second - (text.rfind("\n", 0, second) + 1) + 1
    assert (caught.value.line, caught.value.column) == (line, column)


def test_duplicate_keys_in_group_vars_are_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "hosts.ini", "[web]\nweb1\n")
    (tmp_path / "group_vars").mkdir()
    write(tmp_path, "group_vars/web.yml", "ansible_user: a\nansible_port: 22\nansible_user: b\n")
    with pytest.raises(InventoryError, match="duplicate key 'ansible_user'") as caught:
        load_inventory(path)
    assert caught.value.path is not None and caught.value.path.endswith("web.yml")
    assert (caught.value.line, caught.value.column) == (3, 1)


def test_a_host_group_that_is_almost_a_declared_one_is_refused(tmp_path: Path) -> None:
    text = "hosts:\n  web1: {groups: [wbe]}\ngroups:\n  web: {vars: {port: 2202}}\n"
    path = write(tmp_path, "inventory.yaml", text)
    with pytest.raises(InventoryError, match="did you mean 'web'") as caught:
        load_inventory(path)
    assert (caught.value.line, caught.value.column) == (2, 19)
    done = fleetaudit("inventory", "check", path)
    assert done.returncode == 2 and "did you mean 'web'" in done.stderr


def test_tag_groups_and_declared_near_names_stay_allowed(tmp_path: Path) -> None:
    text = (
        "hosts:\n  web1: {groups: [web, app, webs]}\n"
        "groups:\n  web: {vars: {port: 2202}}\n  webs:\n"
    )
    host = load_inventory(write(tmp_path, "inventory.yaml", text)).hosts[0]
    assert (host.port, host.groups) == (2202, ("app", "web", "webs"))


@pytest.mark.parametrize(
    ("value", "become"),
    [("on", True), ("OFF", False), ("Yes", True), ("n", False), ("t", True), ("False", False)],
)
def test_ansible_booleans(tmp_path: Path, value: str, become: bool) -> None:
    path = write(tmp_path, "hosts.ini", f"h1 ansible_become={value}\n")
    assert load_inventory(path).hosts[0].become is become


def test_ansible_booleans_in_yaml(tmp_path: Path) -> None:
    text = "all:\n  hosts:\n    h1: {ansible_become: 'on'}\n    h2: {ansible_become: 'off'}\n"
    hosts = load_inventory(write(tmp_path, "hosts.yml", text)).hosts
    assert [host.become for host in hosts] == [True, False]


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ("ansible.builtin.ssh", TransportKind.SSH),
        ("ansible.legacy.ssh", TransportKind.SSH),
        ("ansible.builtin.paramiko_ssh", TransportKind.SSH),
        ("ansible.builtin.local", TransportKind.LOCAL),
        ("ansible.legacy.local", TransportKind.LOCAL),
    ],
)
def test_connection_plugin_full_names(tmp_path: Path, value: str, kind: TransportKind) -> None:
    path = write(tmp_path, "hosts.ini", f"localhost ansible_connection={value}\n")
    assert load_inventory(path).hosts[0].transport is kind


def test_other_collections_connections_stay_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "hosts.ini", "h1 ansible_connection=community.docker.docker\n")
    with pytest.raises(InventoryError, match="not supported"):
        load_inventory(path)


@pytest.mark.parametrize("line", ["::1", "[::1]:2222", "fe80::1%eth0 ansible_user=x"])
def test_an_ipv6_host_line_is_quoted_whole(tmp_path: Path, line: str) -> None:
    path = write(tmp_path, "hosts.ini", f"[v6]\n{line}\n")
    with pytest.raises(InventoryError) as caught:
        load_inventory(path)
    assert caught.value.line == 2
    assert repr(line.split()[0]) in caught.value.message
    assert "ansible_host=" in caught.value.message
