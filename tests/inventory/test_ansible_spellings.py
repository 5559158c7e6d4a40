"""The other spellings of Ansible's connection variables, as its ssh connection plugin
reads them: of ``ansible_host``/``ansible_ssh_host`` (and ``_port``, ``_user``, and
``ansible_private_key_file``/``ansible_ssh_private_key_file``) the one the plugin lists
last wins, at whatever level each was set. Ignored, they sent the audit to another sshd
than Ansible reaches, and it read clean."""

from __future__ import annotations

from pathlib import Path

from fleetaudit.inventory import load_inventory


def _host(tmp_path: Path, text: str, name: str = "h1") -> tuple[object, ...]:
    path = tmp_path / "inv.ini"
    path.write_text(text)
    inventory = load_inventory(path)
    [host] = [h for h in inventory.hosts if h.name == name]
    return host.address, host.port, host.user, host.key, inventory.origins[name].get("port")


def test_the_legacy_ssh_spellings_win_as_in_ansible(tmp_path: Path) -> None:
    text = (
        "[web]\n"
        "h1 ansible_host=127.0.0.9 ansible_ssh_host=127.0.0.1 ansible_port=22151 "
        "ansible_ssh_port=22152 ansible_user=nobodyx ansible_ssh_user=root\n"
    )
    address, port, user, _, origin = _host(tmp_path, text)
    assert (address, port, user) == ("127.0.0.1", 22152, "root")
    assert origin == f"{tmp_path / 'inv.ini'}:2"


def test_a_groups_legacy_spelling_beats_a_hosts_modern_one(tmp_path: Path) -> None:
    text = "[web]\nh1 ansible_port=22151\n[web:vars]\nansible_ssh_port=22152\n"
    _, port, _, _, origin = _host(tmp_path, text)
    assert port == 22152
    assert origin == f"{tmp_path / 'inv.ini'}:4"


def test_either_key_spelling_names_the_key(tmp_path: Path) -> None:
    assert _host(tmp_path, "[web]\nh1 ansible_private_key_file=/k/a\n")[3] == "/k/a"
    both = "[web]\nh1 ansible_ssh_private_key_file=/k/ssh ansible_private_key_file=/k/a\n"
    assert _host(tmp_path, both)[3] == "/k/ssh"


def test_a_null_legacy_value_leaves_the_modern_one(tmp_path: Path) -> None:
    path = tmp_path / "inv.yml"
    path.write_text(
        "all:\n  hosts:\n    h1:\n      ansible_port: 2201\n      ansible_ssh_port: null\n"
    )
    [host] = load_inventory(path).hosts
    assert host.port == 2201
