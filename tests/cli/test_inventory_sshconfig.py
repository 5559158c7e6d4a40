"""`inventory list` and `run` with an ssh_config: broken files stop both before any
connection; `list` shows the key files and the ProxyCommand `run` uses, as ``ssh -G`` does."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
from pathlib import Path

import pytest

from tests.runcli import fleetaudit


def _files(tmp_path: Path, config_text: str, port: int = 22) -> tuple[Path, Path]:
    inventory, config = tmp_path / "inventory.yaml", tmp_path / "ssh_config"
    inventory.write_text(
        f"hosts:\n  alias1: {{}}\n  direct: {{address: 127.0.0.1, port: {port}}}\n"
    )
    config.write_text(config_text)
    return inventory, config


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Host a\n  Port 22\nHost b\nMatch\n", ":4: ssh_config: Missing Match value"),
        ("Host alias1\n  Port notaport\n", ":2: ssh_config: Invalid Port integer value: notaport"),
        ("FooBarOption yes\n", ":1: ssh_config: Bad configuration option: FooBarOption"),
    ],
)
def test_a_broken_ssh_config_stops_list_and_run_with_one_message(
    tmp_path: Path, text: str, expected: str
) -> None:
    with socket.socket() as listener:  # a port that would see any connection attempt
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        listener.settimeout(0)
        inventory, config = _files(tmp_path, text, listener.getsockname()[1])
        for command in (["inventory", "list"], ["run", "--no-history"]):
            done = fleetaudit(*command, inventory, "--ssh-config", config)
            assert done.returncode == 2, (command, done.stderr)
            assert done.stderr.strip() == f"fleetaudit: error: {config}{expected}" + (
                " (OpenSSH refuses it too; list it in an earlier IgnoreUnknown if another "
                "ssh knows it)"
                if "FooBar" in expected
                else ""
            ), done.stderr
            assert done.stdout == ""
        with pytest.raises(BlockingIOError):
            listener.accept()  # nothing connected


def test_a_broken_default_ssh_config_stops_list(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inventory, _ = _files(tmp_path, "")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert fleetaudit("inventory", "list", inventory).returncode == 0  # no ~/.ssh/config
    (tmp_path / ".ssh").mkdir()
    (tmp_path / ".ssh" / "config").write_text("Host *\n  Port notaport\n")
    done = fleetaudit("inventory", "list", inventory)
    assert done.returncode == 2
    assert f"{tmp_path}/.ssh/config:2: ssh_config: Invalid Port" in done.stderr


def _ssh_g(config: Path, host: str) -> dict[str, str]:
    done = subprocess.run(
        ["ssh", "-G", "-F", str(config), host],
        capture_output=True, text=True, timeout=10, check=True, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    return dict(line.split(" ", 1) for line in done.stdout.splitlines() if " " in line)


def test_list_shows_identity_file_and_the_proxycommand_run_uses(tmp_path: Path) -> None:
    inventory, config = _files(
        tmp_path,
        "Host alias1\n  HostName 127.0.0.1\n  IdentityFile ~/.ssh/alias_key\n"
        "  ProxyCommand nc %h %p\n"
        "Host *\n  ProxyJump bastion\n",
    )
    done = fleetaudit("inventory", "list", inventory, "--ssh-config", config, "-f", "json")
    assert done.returncode == 0, done.stderr
    targets = {host["name"]: host["connects_to"] for host in json.loads(done.stdout)}
    assert targets["alias1"]["keys"] == ["~/.ssh/alias_key"]
    assert targets["alias1"]["proxy_command"] == "nc 127.0.0.1 22"
    assert targets["alias1"]["jump"] is None  # the ProxyCommand came first: it wins
    assert targets["direct"]["jump"] == "bastion"
    if shutil.which("ssh"):
        openssh = _ssh_g(config, "alias1")
        assert openssh.get("proxycommand") == "nc %h %p" and "proxyjump" not in openssh

    done = fleetaudit("inventory", "list", inventory, "--ssh-config", config)
    assert done.returncode == 0, done.stderr
    header, *lines = done.stdout.splitlines()
    assert header.split() == ["HOST", "ADDRESS", "PORT", "USER", "KEY", "BECOME", "JUMP", "GROUPS"]
    alias1 = next(line for line in lines if line.startswith("alias1"))
    assert "~/.ssh/alias_key (ssh_config)" in alias1
    assert "ProxyCommand nc 127.0.0.1 22 (ssh_config)" in alias1
