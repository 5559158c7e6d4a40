"""The Ansible fixtures, resolved by fleetaudit and by the real ``ansible-inventory --list``,
host by host and variable by variable."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from fleetaudit.errors import InventoryError
from fleetaudit.inventory import load_inventory
from fleetaudit.inventory.select import select_hosts

FIXTURES = Path(__file__).parents[1] / "fixtures" / "ansible"
ANSIBLE_INVENTORY = Path(sys.executable).parent / "ansible-inventory"
BOOLEAN = {"yes": True, "true": True, "1": True, "no": False, "false": False, "0": False}


def _installed(tool: Path) -> Path:
    """``tool`` from ansible-core, a test dependency: missing in CI is a failure."""
    if not tool.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{tool} is missing (pip install -e '.[test]')")
        pytest.skip(f"{tool.name} is not installed (ansible-core, a test dependency)")
    return tool


def ansible_list(source: Path) -> dict[str, Any]:
    _installed(ANSIBLE_INVENTORY)
    env = {**os.environ, "ANSIBLE_NOCOLOR": "1", "ANSIBLE_LOCAL_TEMP": "/tmp"}  # noqa: S108
    done = subprocess.run(
        [str(ANSIBLE_INVENTORY), "-i", str(source), "--list"],
        capture_output=True, text=True, check=True, env=env, cwd=source.parent, timeout=120,
    )  # fmt: skip
    listing: dict[str, Any] = json.loads(done.stdout)
    return listing


def ansible_groups(listing: dict[str, Any]) -> dict[str, set[str]]:
    """Host -> every group it is in (through children too), without ``all``."""
    parents: dict[str, set[str]] = {}
    direct: dict[str, set[str]] = {}
    for group, body in listing.items():
        if group == "_meta":
            continue
        for child in body.get("children", []):
            parents.setdefault(child, set()).add(group)
        for host in body.get("hosts", []):
            direct.setdefault(host, set()).add(group)
    result: dict[str, set[str]] = {}
    for host, groups in direct.items():
        pending, found = list(groups), set()
        while pending:
            group = pending.pop()
            if group not in found:
                found.add(group)
                pending.extend(parents.get(group, ()))
        result[host] = found - {"all"}
    return result


def expected(name: str, hostvars: dict[str, Any]) -> dict[str, Any]:
    become = hostvars.get("ansible_become", False)
    return {
        "address": hostvars.get("ansible_host", name),
        # Unset stays unset: ssh_config or the SSH default (22) decides, as with Ansible.
        "port": int(hostvars["ansible_port"]) if "ansible_port" in hostvars else None,
        "user": hostvars.get("ansible_user"),
        "key": hostvars.get("ansible_ssh_private_key_file"),
        "become": BOOLEAN[str(become).lower()] if isinstance(become, str) else bool(become),
        "transport": hostvars.get("ansible_connection", "ssh"),
    }


@pytest.mark.parametrize("source", [FIXTURES / "ini" / "prod.ini", FIXTURES / "yaml" / "prod.yml"])
def test_same_hosts_and_variables_as_ansible(source: Path) -> None:
    listing = ansible_list(source)
    hostvars = listing["_meta"]["hostvars"]
    groups = ansible_groups(listing)
    ours = {host.name: host for host in load_inventory(source).hosts}
    assert sorted(ours) == sorted(hostvars)
    for name, host in ours.items():
        resolved = host.model_dump(include={"address", "port", "user", "key", "become"})
        resolved["transport"] = host.transport.value
        assert resolved == expected(name, hostvars[name]), name
        assert set(host.groups) == groups[name], name


def test_group_vars_subdirectories_are_read_as_ansible_reads_them(tmp_path: Path) -> None:
    """Ansible descends only into subdirectories without an extension: an old `sub.d/` or
    `backup.2023/` beside the live files must not override them."""
    (tmp_path / "inv.ini").write_text("[web]\nweb01\nweb02\n")
    web = tmp_path / "group_vars" / "web"
    (web / "sub.d").mkdir(parents=True)
    (web / "nested").mkdir()
    (web / "10-base.yml").write_text("ansible_user: webuser\nansible_port: 2201\n")
    (web / "sub.d" / "zz.yml").write_text("ansible_user: from_subdir_with_ext\n")
    (web / "nested" / "20-port.yml").write_text("ansible_port: 2202\n")
    hostvars = ansible_list(tmp_path / "inv.ini")["_meta"]["hostvars"]
    for host in load_inventory(tmp_path / "inv.ini").hosts:
        assert (host.user, host.port) == ("webuser", 2202)
        assert hostvars[host.name]["ansible_user"] == host.user
        assert int(hostvars[host.name]["ansible_port"]) == host.port


def test_yaml_groups_are_read_in_the_order_written(tmp_path: Path) -> None:
    """A host given other values under a child group and under its parent's hosts: takes
    those written later, as Ansible's yaml plugin reads a group's keys in order."""
    source = tmp_path / "order.yml"
    source.write_text(
        "prod:\n"
        "  children:\n"
        "    app:\n"
        "      hosts:\n"
        "        app1: {ansible_user: from_child, ansible_port: 2002}\n"
        "  hosts:\n"
        "    app1: {ansible_user: from_parent, ansible_port: 2001}\n"
        "    app2: {ansible_user: parent_first, ansible_port: 2003}\n"
        "staging:\n"
        "  hosts:\n"
        "    app2: {ansible_user: child_later, ansible_port: 2004}\n"
    )
    hostvars = ansible_list(source)["_meta"]["hostvars"]
    for host in load_inventory(source).hosts:
        assert (host.user, host.port) == (
            hostvars[host.name]["ansible_user"],
            int(hostvars[host.name]["ansible_port"]),
        ), host.name
    assert {h.name: h.user for h in load_inventory(source).hosts}["app1"] == "from_parent"


def test_group_priority_orders_groups_of_one_depth_as_ansible_does(tmp_path: Path) -> None:
    """`shared` is in alpha and zeta: by name zeta's values would win; alpha's priority 10
    makes alpha's win, as in Ansible."""
    source = tmp_path / "prio.ini"
    source.write_text(
        "[alpha]\nshared\n[zeta]\nshared\nonly_zeta\n"
        "[alpha:vars]\nansible_group_priority=10\nansible_user=alpha\nansible_port=2001\n"
        "[zeta:vars]\nansible_user=zeta\nansible_port=2002\n"
    )
    hostvars = ansible_list(source)["_meta"]["hostvars"]
    ours = {h.name: h for h in load_inventory(source).hosts}
    assert (ours["shared"].user, ours["shared"].port) == ("alpha", 2001)
    for name, host in ours.items():
        assert host.user == hostvars[name]["ansible_user"], name
        assert host.port == int(hostvars[name]["ansible_port"]), name


def test_a_group_priority_that_is_no_integer_is_an_error_at_its_line(tmp_path: Path) -> None:
    source = tmp_path / "prio.ini"
    source.write_text("[alpha]\nh1\n[alpha:vars]\nansible_group_priority=high\n")
    with pytest.raises(InventoryError) as caught:
        load_inventory(source)
    assert (caught.value.line, caught.value.key) == (4, "alpha.ansible_group_priority")


LIMIT_INVENTORY = (
    "[web]\nweb[01:12]\n[db]\ndb[1:3]\nwebdb\n[prod]\nweb[01:06]\ndb1\n"
    "[staging]\nweb[07:12]\ndb[2:3]\n[canary]\nweb03\n[db1]\nweb11\n[backup]\n"
    "[web:children]\nbackup_hosts\n[backup_hosts]\nbackup\n"
)
"""A host and a group both named db1 (Ansible warns, and tells them apart by the pattern)."""


def ansible_limit(source: Path, limit: str) -> list[str]:
    ansible = _installed(ANSIBLE_INVENTORY.parent / "ansible")
    env = {**os.environ, "ANSIBLE_NOCOLOR": "1", "ANSIBLE_LOCAL_TEMP": "/tmp"}  # noqa: S108
    done = subprocess.run(
        [str(ansible), "all", "-i", str(source), "--list-hosts", "--limit", limit],
        capture_output=True, text=True, check=True, env=env, cwd=source.parent, timeout=120,
    )  # fmt: skip
    return sorted(line.strip() for line in done.stdout.splitlines()[1:] if line.strip())


@pytest.mark.parametrize(
    "limit",
    [
        "db1",
        "db*:!db1",
        "web*:&db1",
        "web*:&prod:!web03",
        "db1:web11",
        "!db1",
        "db?",
        "a*",  # matches the group all
        "all:!backup",  # backup: a host, and an empty group
        "web01,db2,!web*",
    ],
)
def test_limit_selects_the_hosts_ansible_selects(tmp_path: Path, limit: str) -> None:
    source = tmp_path / "inv.ini"
    source.write_text(LIMIT_INVENTORY)
    ours = sorted(h.name for h in select_hosts(load_inventory(source), [limit]))
    assert ours == ansible_limit(source, limit)


def test_a_term_ansible_would_ignore_as_matching_nothing_is_an_error(tmp_path: Path) -> None:
    """With a comma, `web:&backup` is one term, which names nothing: Ansible warns and goes
    on with the others; here it is an error, as any limit term that names nothing is."""
    source = tmp_path / "inv.ini"
    source.write_text(LIMIT_INVENTORY)
    with pytest.raises(InventoryError, match="'web:&backup' matches no host or group"):
        select_hosts(load_inventory(source), ["web:&backup,db1"])
