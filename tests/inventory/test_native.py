"""The native YAML inventory: resolution, precedence, and errors with file, line and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from fleetaudit.errors import InventoryError
from fleetaudit.inventory import TransportKind, load_inventory, select_hosts
from fleetaudit.inventory.model import Inventory

ISSUE_EXAMPLE = """\
defaults: {user: audit, port: 22}
hosts:
  db1: {address: 192.0.2.10, port: 2222, user: root, key: ~/.ssh/id_ed25519, groups: [db]}
  web1: {address: web1.example.com, groups: [web]}
groups:
  db: {vars: {become: true}}
"""


def load(tmp_path: Path, text: str) -> Inventory:
    path = tmp_path / "inventory.yaml"
    path.write_text(text)
    return load_inventory(path)


def error(tmp_path: Path, text: str) -> InventoryError:
    with pytest.raises(InventoryError) as caught:
        load(tmp_path, text)
    return caught.value


def test_the_documented_form(tmp_path: Path) -> None:
    db1, web1 = load(tmp_path, ISSUE_EXAMPLE).hosts
    assert (db1.address, db1.port, db1.user, db1.key, db1.become, db1.groups) == (
        "192.0.2.10",
        2222,
        "root",
        "~/.ssh/id_ed25519",
        True,
        ("db",),
    )
    assert (web1.address, web1.port, web1.user, web1.become) == (
        "web1.example.com",
        22,
        "audit",
        False,
    )
    assert db1.source_line == 3


def test_a_plain_string_path_loads_like_a_path(tmp_path: Path) -> None:
    """The README's library example passes a string, as most callers would."""
    path = tmp_path / "inventory.yaml"
    path.write_text(ISSUE_EXAMPLE)
    assert load_inventory(str(path)) == load_inventory(path)


def test_groups_with_host_lists_mappings_children_and_precedence(tmp_path: Path) -> None:
    inventory = load(
        tmp_path,
        """\
defaults: {user: audit, become: false}
hosts:
  web1: {user: alice}
groups:
  prod:
    children: [web, db]
    vars: {user: ops, become: true, port: 2200}
    labels: {env: prod}
  web:
    hosts: [web1, web2]
    vars: {port: 2201}
  db:
    hosts:
      db1: {address: 198.51.100.7}
""",
    )
    hosts = {h.name: h for h in inventory.hosts}
    assert list(hosts) == ["web1", "web2", "db1"]
    # defaults < parent group < child group < host-in-group < host entry
    assert (hosts["web1"].user, hosts["web1"].port, hosts["web1"].become) == ("alice", 2201, True)
    assert (hosts["web2"].user, hosts["web2"].address) == ("ops", "web2")
    assert (hosts["db1"].address, hosts["db1"].port, hosts["db1"].groups) == (
        "198.51.100.7",
        2200,
        ("prod", "db"),
    )
    assert hosts["db1"].labels == {"env": "prod"}


def test_local_transport_only_for_this_machine(tmp_path: Path) -> None:
    [host] = load(tmp_path, "hosts:\n  localhost: {transport: local}\n").hosts
    assert (host.transport, host.address) == (TransportKind.LOCAL, "localhost")
    problem = error(tmp_path, "hosts:\n  web1: {transport: local}\n")
    assert "transport: local" in str(problem) and problem.line == 2


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ("hosts:\n  db1: {prot: 22}\n", 2, "hosts.db1.prot: unknown key"),
        ("hosts:\n  db1:\n    port: 70000\n", 3, "hosts.db1.port"),
        ("hosts:\n  db1: {port: '22'}\n", 2, "hosts.db1.port"),
        ("hosts:\n  db1: {address: -oProxyCommand=touch /tmp/x}\n", 2, "not a host name"),
        ("hosts:\n  db1: {user: 'root;reboot'}\n", 2, "not a login name"),
        ("hosts:\n  db1: {user: '$(id)'}\n", 2, "not a login name"),
        ("hosts:\n  db1: {address: '`id`'}\n", 2, "not a host name"),
        ('hosts:\n  db1: {address: "a\\nb"}\n', 2, "not a host name"),
        ('hosts:\n  db1: {address: \'{{ lookup("env", "X") }}\'}\n', 2, "templates"),
        ("hosts:\n  db1: {key: '-i'}\n", 2, "file path"),
        ("hosts:\n  db1:\n  db1:\n", 3, "duplicate key"),
        ("groups:\n  a: {children: [b]}\n  b: {children: [a]}\n", 2, "cycle"),
        ("groups:\n  a: {children: [nope]}\n", 2, "unknown child group"),
        ("hosts: {}\n", 1, "defines no hosts"),
        ("- just\n- a list\n", 1, "an inventory is a mapping"),
        ("hosts: [\n", 2, "invalid YAML"),
        ("hosts:\n  web1:\n\taddress: 127.0.0.1\n", 3, "a tab character (YAML indents with"),
    ],
)
def test_errors_name_file_line_and_key(tmp_path: Path, text: str, line: int, fragment: str) -> None:
    problem = error(tmp_path, text)
    assert str(problem).startswith(str(tmp_path / "inventory.yaml") + ":")
    assert problem.line == line
    assert fragment in str(problem)


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    """Without Python's dressing: "[Errno 2] No such file or directory: 'absent.yaml'"
    repeated the path the message already names (QA)."""
    with pytest.raises(InventoryError) as raised:
        load_inventory(tmp_path / "absent.yaml")
    assert raised.value.message == "cannot read file: No such file or directory"
    binary = tmp_path / "binary.yaml"
    binary.write_bytes(b"hosts:\n  a\xff: {}\n")
    with pytest.raises(InventoryError) as raised:
        load_inventory(binary)
    assert raised.value.message == "cannot read file: it is not UTF-8 text (byte 0xff at offset 10)"


def test_limit_patterns(tmp_path: Path) -> None:
    inventory = load(
        tmp_path,
        "hosts:\n  web1: {groups: [web]}\n  web2: {groups: [web]}\n  db1: {groups: [db]}\n",
    )

    def names(*patterns: str) -> list[str]:
        return [h.name for h in select_hosts(inventory, patterns)]

    assert names() == ["web1", "web2", "db1"]
    assert names("web") == ["web1", "web2"]
    assert names("web*,!web2") == ["web1"]
    assert names("db", "web1") == ["web1", "db1"]
    assert names("!db") == ["web1", "web2"]
    with pytest.raises(InventoryError, match="matches no host or group"):
        names("wbe*")
    for typo in ("db*:!typo", "web:&tpyo"):  # the term is named as written, '!' and '&' too
        with pytest.raises(InventoryError, match=f"--limit '{typo[-5:]}' matches no host"):
            names(typo)
    with pytest.raises(InventoryError, match="--limit 'db' --limit '!db1' leaves no host"):
        names("db", "!db1")
    with pytest.raises(InventoryError, match="--limit 'web\\*:!web\\*' leaves no host"):
        names("web*:!web*")  # as written, not with its ':' made a ','


def test_shipped_example_inventory_loads() -> None:
    example = Path(__file__).parents[2] / "inventories" / "example.yaml"
    hosts = load_inventory(example).hosts
    assert hosts and all(h.address for h in hosts)


@pytest.mark.parametrize(
    ("text", "line", "said"),
    [
        ("hosts:\n  web1: {}\n  false: {}\n", 3, "false is read by YAML as a boolean"),
        ("hosts:\n  123: {address: 10.0.0.5}\n", 2, "123 is read by YAML as a number"),
        ("hosts:\n  web1: {}\n  null: {}\n", 3, "null is read by YAML as null"),
        ("groups:\n  2026-01-01: [web1]\nhosts:\n  web1: {}\n", 2, "read by YAML as a date"),
        # Ansible YAML: Ansible itself would name these hosts 'True' and '123'
        ("all:\n  hosts:\n    yes:\n    web2:\n", 3, "yes is read by YAML as a boolean"),
        ("all:\n  children:\n    123:\n      hosts:\n        w:\n", 3, "123 is read by YAML"),
    ],
)
def test_a_host_or_group_name_yaml_reads_as_no_name_is_refused_where_it_is(
    tmp_path: Path, text: str, line: int, said: str
) -> None:
    problem = error(tmp_path, text)
    assert problem.line == line
    assert said in str(problem) and "quote it" in str(problem)


def test_quoted_such_names_are_names(tmp_path: Path) -> None:
    hosts = load(tmp_path, "hosts:\n  'false': {address: 10.0.0.5}\n  '123': {}\n").hosts
    assert [h.name for h in hosts] == ["false", "123"]


def test_ansible_variables_keep_their_keys_whatever_a_host_is_named(tmp_path: Path) -> None:
    """Only group and host names must be names: a variable's data (even one called
    ``hosts`` or ``children``) may have integer keys, and the name a bad host has is the
    one blamed."""
    data = (
        "all:\n  vars:\n    vlan_map: {10: mgmt}\n    hosts: {1: a}\n"
        "  hosts:\n    web1: {ansible_host: 10.0.0.1, children: {2: x}}\n"
        "  children:\n    web:\n      vars:\n        children: {2: x}\n"
        "      hosts:\n        web2:\n"
    )
    assert [h.name for h in load(tmp_path, data).hosts] == ["web1", "web2"]
    problem = error(tmp_path, data + "    yes:\n")  # a host of group web
    assert problem.line == 13
    assert "yes is read by YAML as a boolean" in str(problem)


@pytest.mark.parametrize(
    ("value", "read"), [("on", "a boolean"), ("123", "a number"), ("~", "null (nothing)")]
)
def test_an_unquoted_value_where_a_name_is_expected_says_to_quote_it(
    tmp_path: Path, value: str, read: str
) -> None:
    problem = error(tmp_path, f"hosts:\n  web1: {{groups: [web, {value}]}}\n")
    assert problem.line == 2
    assert f"YAML read this unquoted value as {read}" in str(problem) and "quote it" in str(problem)


@pytest.mark.parametrize(
    ("text", "groups"),
    [
        # no all:, an empty group and a group with only vars (QA round 3: read as native)
        (
            "web: {hosts: {h1: }}\nprod: {children: {web: }}\nstaging: {}\n"
            "monitoring: {vars: {ansible_user: root}}\n",
            ("prod", "web"),
        ),
        # all: makes it Ansible's, even beside a group called groups
        ("all:\n  children:\n    groups:\n      hosts:\n        h1:\n", ("groups",)),
    ],
)
def test_ansible_yaml_inventories_without_all_or_with_odd_groups_are_ansible(
    tmp_path: Path, text: str, groups: tuple[str, ...]
) -> None:
    [host] = load(tmp_path, text).hosts
    assert host.name == "h1" and host.groups == groups


def test_a_misspelt_ansible_group_key_is_named_where_it_is(tmp_path: Path) -> None:
    problem = error(tmp_path, "web:\n  hosts:\n    h1:\n  childern:\n    x:\n")
    assert problem.line == 4 and "unknown key (hosts, vars or children)" in str(problem)


@pytest.mark.parametrize("user", ["john.doe@corp.example", "svc_audit$", "1abc", "a" * 40])
def test_login_names_from_directories_are_login_names(tmp_path: Path, user: str) -> None:
    """SSSD and AD users, machine accounts: ssh_config's User took them, the inventory
    refused them (QA round 3). A jump host's user is read the same way."""
    [host] = load(
        tmp_path, f"hosts:\n  h1: {{user: '{user}', jump: '{user}@127.0.0.1:2222'}}\n"
    ).hosts
    assert host.user == user and host.jump == f"{user}@127.0.0.1:2222"


@pytest.mark.parametrize("user", ["-oProxyCommand=x", "a b", "a$b", "a\\\\b", "a'b", "@x"])
def test_login_names_that_a_shell_or_ssh_would_act_on_are_refused(
    tmp_path: Path, user: str
) -> None:
    assert "is not a login name" in str(error(tmp_path, f'hosts:\n  h1: {{user: "{user}"}}\n'))


def test_ansible_values_yaml_read_as_numbers(tmp_path: Path) -> None:
    """Ansible takes ``ansible_user: 1234`` as the text 1234, and so does fleetaudit; a
    float would lose digits (10.10 is 10.1) and is refused with the fix."""
    [host] = load(tmp_path, "all:\n  hosts:\n    h1: {ansible_user: 1234}\n").hosts
    assert host.user == "1234"
    problem = error(tmp_path, "all:\n  hosts:\n    h1: {ansible_host: 10.10}\n")
    assert "the unquoted value was read as a number; quote it" in str(problem)


def test_ini_values_are_typed_as_ansible_types_them(tmp_path: Path) -> None:
    """Ansible's INI plugin reads values with ast.literal_eval: 007 is not a literal and
    stays 007 (it was read as 7, another login); 0x1F is 31."""
    path = tmp_path / "hosts.ini"
    path.write_text("[web]\nh1 ansible_host=017700000001 ansible_user=007\nh2 ansible_user=0x1F\n")
    h1, h2 = load_inventory(path).hosts
    assert (h1.address, h1.user) == ("017700000001", "007")
    assert h2.user == "31"


@pytest.mark.parametrize(
    ("text", "line", "key"),
    [
        ("web:\n  hots:\n    web1:\n", 2, "web.hots"),  # a lone Ansible group, misspelt
        ("host:\n  web1: {address: 10.0.0.1}\n", 2, "host.web1"),  # a native typo
    ],
)
def test_a_file_without_native_keys_is_read_as_ansible_and_says_so(
    tmp_path: Path, text: str, line: int, key: str
) -> None:
    problem = error(tmp_path, text)
    assert (problem.line, problem.key) == (line, key)
    assert "read as an Ansible YAML inventory" in str(problem)


def test_ansible_hosts_and_children_given_as_one_name(tmp_path: Path) -> None:
    """Ansible reads `hosts: web1` as {web1: } ("convert strings to dicts")."""
    text = "all:\n  hosts: web1\n  children: web\nweb:\n  hosts:\n    w1:\n"
    hosts = {h.name: h.groups for h in load(tmp_path, text).hosts}
    assert hosts == {"web1": ("ungrouped",), "w1": ("web",)}


def test_a_null_ansible_value_unsets_it_as_in_ansible(tmp_path: Path) -> None:
    """INI `ansible_user=None` logged in as a user named None; YAML `null` was refused.
    In Ansible both leave the default."""
    ini = tmp_path / "hosts.ini"
    ini.write_text("[web]\nh1 ansible_user=None ansible_port=None\n")
    [from_ini] = load_inventory(ini).hosts
    [from_yaml] = load(tmp_path, "all:\n  hosts:\n    h1: {ansible_user: null}\n").hosts
    assert (from_ini.user, from_ini.port, from_yaml.user) == (None, None, None)


def test_a_port_of_five_thousand_digits_is_refused_in_a_line(tmp_path: Path) -> None:
    path = tmp_path / "hosts.ini"
    path.write_text("[web]\nh1\n[web:vars]\nansible_port = " + "9" * 5000 + "\n")
    with pytest.raises(InventoryError) as caught:
        load_inventory(path)
    assert "is not a port number (1-65535)" in str(caught.value)
    assert len(str(caught.value)) < 200


def test_a_bad_host_name_is_named_in_plain_words(tmp_path: Path) -> None:
    """Not pydantic's "hosts.bad host.[key]: Value error, ...": the key, then the problem."""
    path = tmp_path / "inv.yaml"
    path.write_text("hosts:\n  web1: {address: 127.0.0.1}\n  bad host: {address: 127.0.0.2}\n")
    with pytest.raises(InventoryError) as caught:
        load_inventory(path)
    assert str(caught.value) == (
        f"{path}:3:3: hosts.bad host: 'bad host' is not a name of letters, digits, _ . -"
    )


def test_one_group_or_child_may_be_given_without_a_list(tmp_path: Path) -> None:
    """QA: ``groups: web`` was refused as "Input should be a valid tuple" (the user wrote
    no tuple), where the policy takes ``select: {groups: web}`` as ``[web]``."""
    inventory = load(
        tmp_path,
        "hosts:\n"
        "  web1: {address: 127.0.0.1, groups: web}\n"
        "  db1: {address: 127.0.0.2, groups: [db]}\n"
        "groups:\n"
        "  web: {labels: {tier: front}}\n"
        "  prod: {children: web}\n",
    )
    by_name = {host.name: host for host in inventory.hosts}
    assert set(by_name["web1"].groups) == {"web", "prod"}
    assert by_name["db1"].groups == ("db",)
