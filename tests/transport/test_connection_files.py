"""An --ssh-config or --known-hosts file that cannot be read stops the run before any
connection, naming the file; the default ~/.ssh/known_hosts may be missing."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from fleetaudit.config import AuditConfig
from fleetaudit.errors import InputError
from tests.runcli import fleetaudit


@pytest.mark.parametrize("option", ["ssh_config", "known_hosts"])
def test_a_missing_file_given_explicitly_is_refused(tmp_path: Path, option: str) -> None:
    missing = tmp_path / "absent"
    value = missing if option == "ssh_config" else (tmp_path / "kh", missing)
    (tmp_path / "kh").write_text("")
    with pytest.raises(InputError) as caught:
        AuditConfig(**{option: value})
    assert caught.value.path == str(missing)
    assert (
        str(caught.value) == f"{missing}: cannot read this {option} file: No such file or directory"
    )


def test_a_directory_is_not_a_readable_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="Is a directory"):
        AuditConfig(ssh_config=tmp_path)


def test_an_ssh_config_that_is_not_utf8_is_refused_before_connecting(tmp_path: Path) -> None:
    config = tmp_path / "config"
    config.write_bytes(b"Host *\n  User \xff\xfeaudit\n")
    with pytest.raises(InputError) as caught:
        AuditConfig(ssh_config=config)
    assert str(caught.value) == (
        f"{config}: this ssh_config file is not UTF-8 text (byte 15 cannot be decoded)"
    )


def test_readable_files_and_the_defaults_are_fine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "no-home"))  # no ~/.ssh/known_hosts at all
    assert AuditConfig().ssh_config is None
    (tmp_path / "config").write_text("Host *\n  User audit\n")
    (tmp_path / "known_hosts").write_text("")
    config = AuditConfig(ssh_config=tmp_path / "config", known_hosts=(tmp_path / "known_hosts",))
    assert config.known_hosts == (tmp_path / "known_hosts",)
    assert AuditConfig(ssh_config=Path("/dev/null")).ssh_config == Path("/dev/null")


@pytest.mark.parametrize("option", ["--ssh-config", "--known-hosts"])
def test_run_exits_2_before_connecting(tmp_path: Path, option: str) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        listener.setblocking(False)
        inventory = tmp_path / "inventory.yaml"
        port = listener.getsockname()[1]
        inventory.write_text(f"hosts:\n  h1: {{address: 127.0.0.1, port: {port}}}\n")
        done = fleetaudit(
            "run", inventory, option, tmp_path / "nonexistent", "--no-history",
            "--connect-timeout", "2", "--format", "json",
        )  # fmt: skip
        try:
            connected, _ = listener.accept()
        except BlockingIOError:
            pass  # nobody connected: what the test expects
        else:
            connected.close()
            pytest.fail("the run connected to the host despite the unreadable file")
    assert done.returncode == 2, done.stderr
    assert f"{tmp_path / 'nonexistent'}: cannot read" in done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""
