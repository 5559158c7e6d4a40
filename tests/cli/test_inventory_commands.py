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
    assert "ansible-inventory -i SRC --list > inv.json" in done.stderr
