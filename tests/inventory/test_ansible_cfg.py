"""Login settings Ansible takes from ansible.cfg and ANSIBLE_* variables are named, not
silently dropped: QA pointed fleetaudit at an INI inventory whose ansible.cfg set
remote_user, private_key_file and a ProxyJump in ssh_args; fleetaudit listed the hosts as
the local user, no key, no jump, and said nothing."""

from __future__ import annotations

import os
from pathlib import Path

from fleetaudit.inventory.ansible_cfg import config_file, unapplied_settings
from tests.runcli import fleetaudit

CFG = (
    "[defaults]\nremote_user = deploy\nprivate_key_file = ~/.ssh/deploy_ed25519\n"
    "[ssh_connection]\nssh_args = -o ProxyJump=jump@127.0.0.1:2200\n"
)


def test_an_ansible_cfg_in_the_working_directory_is_named_with_what_it_sets(
    tmp_path: Path,
) -> None:
    (tmp_path / "ansible.cfg").write_text(CFG)
    [note] = unapplied_settings(env={}, cwd=tmp_path, home=tmp_path / "home")
    assert note.startswith(
        f"{tmp_path / 'ansible.cfg'} sets remote_user ([defaults]), private_key_file "
        "([defaults]), ssh_args ([ssh_connection]), which Ansible applies to hosts whose "
        "inventory does not set ansible_user, ansible_ssh_private_key_file, ansible_ssh_args"
    )


def test_files_are_found_in_ansibles_order_and_a_world_writable_directory_is_skipped(
    tmp_path: Path,
) -> None:
    cwd, home, elsewhere = tmp_path / "cwd", tmp_path / "home", tmp_path / "other.cfg"
    cwd.mkdir()
    home.mkdir()
    for path in (cwd / "ansible.cfg", home / ".ansible.cfg", elsewhere):
        path.write_text(CFG)
    assert config_file({"ANSIBLE_CONFIG": str(elsewhere)}, cwd, home) == elsewhere
    assert config_file({"ANSIBLE_CONFIG": str(tmp_path)}, cwd, home) == cwd / "ansible.cfg"
    assert config_file({}, cwd, home) == cwd / "ansible.cfg"
    os.chmod(cwd, 0o777)
    assert config_file({}, cwd, home) == home / ".ansible.cfg", "Ansible ignores it there"


def test_the_environment_and_comment_only_files(tmp_path: Path) -> None:
    (tmp_path / "ansible.cfg").write_text("[defaults]\n# remote_user = deploy\nforks = 5\n")
    env = {"ANSIBLE_REMOTE_USER": "deploy", "ANSIBLE_BECOME": ""}
    [note] = unapplied_settings(env=env, cwd=tmp_path, home=tmp_path)
    assert note.startswith("the environment sets ANSIBLE_REMOTE_USER, which Ansible applies")
    assert unapplied_settings(env={}, cwd=tmp_path, home=tmp_path) == []


def test_inventory_commands_warn_for_ansible_inventories_only(tmp_path: Path) -> None:
    cfg = tmp_path / "ansible.cfg"
    cfg.write_text(CFG)
    ini = tmp_path / "hosts.ini"
    ini.write_text("[web]\nweb1 ansible_host=127.0.0.1\n")
    native = tmp_path / "fleet.yaml"
    native.write_text("hosts:\n  web1: {address: 127.0.0.1}\n")
    env = {"ANSIBLE_CONFIG": str(cfg)}
    for command in ("list", "check"):
        done = fleetaudit("inventory", command, ini, env=env)
        assert done.returncode == 0, done.stderr
        assert f"fleetaudit: warning: {cfg} sets remote_user ([defaults])" in done.stderr
        quiet = fleetaudit("inventory", command, native, env=env)
        assert quiet.returncode == 0 and "warning" not in quiet.stderr, quiet.stderr


def test_settings_every_host_overrides_and_become_off_are_not_named(tmp_path: Path) -> None:
    """QA: the warning stayed after doing what it says (all:vars setting the variables),
    and fired for `become = False`, Ansible's default: the same line every night."""
    cfg = tmp_path / "ansible.cfg"
    cfg.write_text(CFG + "[privilege_escalation]\nbecome = False\n")
    ini = tmp_path / "hosts.ini"
    ini.write_text(
        "[web]\nweb1 ansible_host=127.0.0.1\nweb2 ansible_host=127.0.0.2\n"
        "[all:vars]\nansible_ssh_user=deploy\nansible_ssh_args=-o ProxyJump=none\n"
    )
    done = fleetaudit("inventory", "check", ini, env={"ANSIBLE_CONFIG": str(cfg)})
    assert done.returncode == 0, done.stderr
    [warning] = [line for line in done.stderr.splitlines() if "warning" in line]
    assert "sets private_key_file ([defaults]), which" in warning, "the one left to set"
    assert "become" not in warning and "remote_user" not in warning
    (tmp_path / "id_audit").write_text("a key\n")
    ini.write_text(ini.read_text() + f"ansible_ssh_private_key_file={tmp_path}/id_audit\n")
    quiet = fleetaudit("inventory", "check", ini, env={"ANSIBLE_CONFIG": str(cfg)})
    assert quiet.returncode == 0 and "warning" not in quiet.stderr, quiet.stderr
