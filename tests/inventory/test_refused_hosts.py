"""A host of an Ansible inventory that fleetaudit cannot audit as written (a Windows host,
become to another user, a template in a setting) no longer blocks the whole inventory when
--limit leaves it out (QA: one WinRM host stopped every run of a mixed inventory, --limit
or not). Selected, it is still an error at its file and line; and a run that leaves it out
does not count as auditing the whole inventory."""

from __future__ import annotations

from pathlib import Path

import pytest

from fleetaudit.errors import InventoryError
from fleetaudit.inventory import load_inventory, select_hosts
from tests.runcli import fleetaudit

INI = """\
[linux]
web1 ansible_host=127.0.0.1
db1 ansible_host=127.0.0.2 ansible_become=true

[windows]
win1 ansible_host=127.0.0.3 ansible_connection=winrm

[prod:children]
linux
windows
"""


@pytest.fixture
def mixed(tmp_path: Path) -> Path:
    path = tmp_path / "hosts.ini"
    path.write_text(INI)
    return path


def test_the_whole_inventory_is_still_refused_where_every_host_counts(mixed: Path) -> None:
    with pytest.raises(InventoryError) as caught:
        load_inventory(mixed)
    assert (caught.value.line, caught.value.key) == (6, "win1.ansible_connection")
    assert "connection 'winrm' is not supported" in caught.value.message


def test_limit_leaves_a_refused_host_out_and_selecting_it_is_the_error(mixed: Path) -> None:
    inventory = load_inventory(mixed, refuse_later=True)
    assert [h.name for h in select_hosts(inventory, ["!windows"])] == ["web1", "db1"]
    assert [h.name for h in select_hosts(inventory, ["linux"])] == ["web1", "db1"]
    assert [h.name for h in select_hosts(inventory, ["prod:!win1"])] == ["web1", "db1"]
    for patterns in ([], ["prod"], ["win*"], ["all"]):
        with pytest.raises(InventoryError) as caught:
            select_hosts(inventory, patterns)
        assert caught.value.line == 6, patterns
        assert caught.value.message.endswith("(or leave the host out: --limit '!win1')")


def test_inventory_list_takes_the_limit(mixed: Path) -> None:
    done = fleetaudit("inventory", "list", mixed, "--limit", "!windows")
    assert done.returncode == 0, done.stderr
    assert "web1" in done.stdout and "win1" not in done.stdout
    refused = fleetaudit("inventory", "list", mixed)
    assert refused.returncode == 2
    assert f"{mixed}:6" in refused.stderr and "--limit '!win1'" in refused.stderr


def test_a_run_that_leaves_a_refused_host_out_is_not_a_whole_audit(tmp_path: Path) -> None:
    inventory = tmp_path / "hosts.ini"
    inventory.write_text(
        "[here]\nlocalhost ansible_connection=local\n"
        "[windows]\nwin1 ansible_host=127.0.0.3 ansible_connection=winrm\n"
    )
    prom, db = tmp_path / "f.prom", tmp_path / "h.sqlite"
    done = fleetaudit("run", inventory, "--limit", "!windows", "--db", db, "-o", f"prom={prom}",
                      "--fail-on", "critical")  # fmt: skip
    assert done.returncode in (0, 1), done.stderr
    text = prom.read_text()
    assert "fleetaudit_run_success 1" in text
    assert "fleetaudit_last_success_timestamp_seconds" not in text, "win1 was not audited"


def test_every_refused_host_of_the_selection_is_named_at_once(tmp_path: Path) -> None:
    """QA: one per run, each with its own `--limit '!HOST'`: four runs to find four."""
    path = tmp_path / "hosts.ini"
    win2 = "win2 ansible_host=127.0.0.4 ansible_connection=winrm\n"
    path.write_text(INI.replace("\n\n[prod:children]", f"\n{win2}\n[prod:children]"))
    inventory = load_inventory(path, refuse_later=True)
    with pytest.raises(InventoryError) as caught:
        select_hosts(inventory, ["prod"])
    assert caught.value.line == 6
    assert caught.value.message.endswith(
        "(2 selected hosts cannot be audited as written: win1, win2; leave them out with "
        "--limit '!win1:!win2', or by a group of theirs)"
    )


def test_commands_that_use_names_and_groups_only_read_a_mixed_inventory(
    mixed: Path, tmp_path: Path
) -> None:
    """QA: `check --inventory`, `policy lint --inventory` and `merge --inventory` refused
    the whole file for its Windows host, though they never log in to any host."""
    policy = tmp_path / "p.yaml"
    policy.write_text(
        "version: 1\nrules:\n"
        "  - {id: r, kind: forbidden, severity: high, description: d, match: {port: 23},\n"
        "     select: {groups: [windows]}}\n"
        "  - {id: cov, kind: coverage, severity: medium, description: d}\n"
    )
    linted = fleetaudit("policy", "lint", policy, "--inventory", mixed)
    assert linted.returncode == 0, linted.stderr
    assert "selects no host" not in linted.stderr, "win1 is in group windows"
    capture = tmp_path / "web1.ss.txt"
    capture.write_text(
        "Netid State Recv-Q Send-Q Local Address:Port Peer Address:Port Process\n"
        'tcp LISTEN 0 128 0.0.0.0:22 0.0.0.0:* users:(("sshd",pid=1,fd=3))\n'
    )
    checked = fleetaudit("check", capture, "--inventory", mixed, "--privileged")
    assert checked.returncode in (0, 1), checked.stderr
    assert "web1" in checked.stdout
