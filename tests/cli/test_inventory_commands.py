"""`fleetaudit inventory list` and `fleetaudit inventory check`."""

from __future__ import annotations

import json
from pathlib import Path

from tests.runcli import fleetaudit

FIXTURES = Path(__file__).parents[1] / "fixtures" / "ansible"
INI = FIXTURES / "ini" / "prod.ini"


def test_list_table_shows_values_and_origins() -> None:
    done = fleetaudit("inventory", "list", INI, "--limit", "db")
    assert done.returncode == 0, done.stderr
    rows = {line.split()[0]: line for line in done.stdout.splitlines()[1:]}
    assert sorted(rows) == ["db-a", "db-b", "db-c", "db-z"]
    assert "192.0.2.11 (host_vars/db-b.yml:1)" in rows["db-b"]
    assert "2222 (group_vars/db/connection.yml:1)" in rows["db-b"] and "prod,db" in rows["db-b"]


def test_list_json_from_stdin() -> None:
    document = {"_meta": {"hostvars": {"h1": {"ansible_user": "ops"}}}, "web": ["h1"]}
    done = fleetaudit("inventory", "list", "-", "--format", "json", stdin=json.dumps(document))
    assert done.returncode == 0, done.stderr
    [host] = json.loads(done.stdout)
    assert (host["name"], host["user"], host["groups"]) == ("h1", "ops", ["web"])
    assert host["origins"]["user"] == "<stdin>" and host["origins"]["port"] == "default"


def test_check_valid_and_invalid(tmp_path: Path) -> None:
    done = fleetaudit("inventory", "check", INI)
    assert done.returncode == 0, done.stderr
    assert "valid; 15 hosts" in done.stderr
    bad = tmp_path / "hosts.ini"
    bad.write_text("[web]\nweb1 ansible_host='{{ x }}'\n")
    done = fleetaudit("inventory", "check", bad)
    assert done.returncode == 2
    assert f"{bad}:2: web1.ansible_host: templates" in done.stderr
    assert "are never evaluated; give the setting a literal value" in done.stderr


def test_list_shows_what_ssh_config_makes_of_unset_values(tmp_path: Path) -> None:
    """`run` honours ssh_config for what the inventory leaves unset; `list` must show the
    same target, not "22 (ssh default)" for a host the config sends to port 2222."""
    inventory, config = tmp_path / "inventory.yaml", tmp_path / "ssh_config"
    inventory.write_text(
        "hosts:\n  dbalias: {}\n  pinned: {address: 127.0.0.6, port: 2200, user: audit}\n"
    )
    config.write_text(
        "Host dbalias\n  HostName 127.0.8.1\n  Port 2222\n  User ops\n  ProxyJump j@127.0.0.9\n"
        "Host *\n  Port 2022\n  User other\n"
    )
    done = fleetaudit("inventory", "list", inventory, "--ssh-config", config)
    assert done.returncode == 0, done.stderr
    rows = {line.split()[0]: line.split("  ") for line in done.stdout.splitlines()[1:]}
    dbalias = " ".join(rows["dbalias"])
    assert "dbalias -> 127.0.8.1 (ssh_config)" in dbalias
    assert "2222 (ssh_config)" in dbalias and "ops (ssh_config)" in dbalias
    assert "j@127.0.0.9 (ssh_config)" in dbalias
    pinned = " ".join(rows["pinned"])
    assert "2200 (inventory.yaml:3)" in pinned and "audit (inventory.yaml:3)" in pinned

    done = fleetaudit("inventory", "list", inventory, "--ssh-config", config, "-f", "json")
    targets = {host["name"]: host["connects_to"] for host in json.loads(done.stdout)}
    assert targets["dbalias"] == {
        "address": "127.0.8.1",
        "port": 2222,
        "user": "ops",
        "jump": "j@127.0.0.9",
        "keys": [],
        "proxy_command": None,
    }
    assert targets["pinned"] == {
        "address": "127.0.0.6",
        "port": 2200,
        "user": "audit",
        "jump": None,
        "keys": [],
        "proxy_command": None,
    }


def test_a_key_file_that_cannot_be_read_is_said_before_any_host(tmp_path: Path) -> None:
    """QA: a typo in defaults.key passed `inventory check` as valid, and the night then
    failed every host, one `auth_failed` line each."""
    inventory = tmp_path / "inv.yaml"
    inventory.write_text(
        f"defaults: {{key: {tmp_path}/id_ed2551}}\nhosts:\n"
        + "".join(f"  h{i}: {{address: 127.0.0.{i + 1}}}\n" for i in range(5))
        + "  localhost: {transport: local}\n"
    )
    done = fleetaudit("inventory", "check", inventory)
    assert done.returncode == 0, done.stderr
    warnings = [line for line in done.stderr.splitlines() if "warning: key file" in line]
    assert warnings == [
        f"fleetaudit: warning: key file {tmp_path}/id_ed2551 (set at {inventory}:1) does not "
        "exist: the 5 hosts logging in with it will fail (h0, h1, h2 and 2 more)"
    ], done.stderr


def test_a_local_host_is_listed_without_the_jump_host_it_does_not_use(tmp_path: Path) -> None:
    """QA: `defaults: {jump: ...}` showed under a `transport: local` host, which `run`
    audits without SSH, so the listing promised a route the audit never takes."""
    inventory = tmp_path / "inv.yaml"
    inventory.write_text(
        "defaults: {jump: bastion@127.0.0.9}\nhosts:\n"
        "  web: {address: 127.0.0.2}\n  localhost: {transport: local}\n"
    )
    done = fleetaudit("inventory", "list", inventory, "--ssh-config", "/dev/null")
    assert done.returncode == 0, done.stderr
    rows = {line.split()[0]: line.split() for line in done.stdout.splitlines()[1:]}
    assert "bastion@127.0.0.9" in rows["web"]
    assert rows["localhost"][-2:] == ["-", "-"]  # JUMP and GROUPS
