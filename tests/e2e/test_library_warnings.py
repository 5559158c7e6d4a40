"""Under cron the only message is a one-line summary: the SSH libraries' own warnings
(cryptography deprecating the finite-field Diffie-Hellman a server offers) are not shown."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.runcli import fleetaudit
from tests.sshd import SshdServer, start_sshd

pytestmark = [pytest.mark.sshd, pytest.mark.timeout(60)]


@pytest.fixture
def finite_field_dh_only(tmp_path: Path) -> Iterator[SshdServer]:
    directory = tmp_path / "sshd"
    directory.mkdir()
    yield from start_sshd(directory, extra_config="KexAlgorithms diffie-hellman-group14-sha256\n")


def _run(tmp_path: Path, server: SshdServer, *env_warnings: str) -> tuple[int, str]:
    inventory, known_hosts = tmp_path / "inventory.yaml", tmp_path / "known_hosts"
    inventory.write_text(
        f"hosts:\n  old1: {{address: {server.host}, port: {server.port}, "
        f"user: {server.user}, key: {server.client_key}}}\n"
    )
    known_hosts.write_text(server.known_hosts_entry + "\n")
    env = {"PYTHONWARNINGS": env_warnings[0]} if env_warnings else {}
    done = fleetaudit(
        "run", inventory, "--known-hosts", known_hosts, "--no-history",
        "--format", "json", "--output", tmp_path / "report.json", env=env, timeout=40,
    )  # fmt: skip
    return done.returncode, done.stderr


def test_a_server_offering_only_finite_field_dh_gives_one_summary_line(
    tmp_path: Path, finite_field_dh_only: SshdServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PYTHONWARNINGS", raising=False)
    code, stderr = _run(tmp_path, finite_field_dh_only)
    assert code in (0, 1), stderr  # audited: findings or none, by the default policy
    assert "Warning" not in stderr, stderr
    assert len(stderr.splitlines()) == 1, stderr


def test_warnings_the_user_asked_for_are_kept(
    tmp_path: Path, finite_field_dh_only: SshdServer
) -> None:
    code, stderr = _run(tmp_path, finite_field_dh_only, "default")
    assert code in (0, 1), stderr
    assert "CryptographyDeprecationWarning" in stderr
