"""A real OpenSSH sshd on a loopback port, for tests that must meet a real server.

The fixture generates the host key and the client key in a temporary directory, writes a
minimal sshd_config (public keys only, no PAM), starts ``sshd -D`` and waits, bounded, until
the port answers. It stops only the process it started. Without the sshd binary the tests
are skipped, except under CI, where that is a failure (CI installs openssh-server).
"""

from __future__ import annotations

import getpass
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncssh
import pytest

from fleetaudit.lab.keys import generate_key, known_hosts_entry, public_key_line, write_private_key

SSHD_CANDIDATES = ("/usr/sbin/sshd", "/usr/local/sbin/sshd")
START_TIMEOUT_S = 15.0


@dataclass(frozen=True)
class SshdServer:
    """How to reach the running sshd."""

    host: str
    port: int
    user: str
    client_key: Path
    known_hosts_entry: str
    pid: int
    authorized_keys: Path
    """Read at every login: a test may append keys to it."""
    host_key_public: str = ""
    """The host key as ``ssh-ed25519 AAAA...``."""


def find_sshd() -> str | None:
    for candidate in SSHD_CANDIDATES:
        if os.access(candidate, os.X_OK):
            return candidate
    return shutil.which("sshd")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _config(tmp: Path, port: int, extra: str = "") -> Path:
    config = tmp / "sshd_config"
    config.write_text(
        extra + f"Port {port}\n"
        "ListenAddress 127.0.0.1\n"
        f"HostKey {tmp / 'host_key'}\n"
        f"PidFile {tmp / 'sshd.pid'}\n"
        f"AuthorizedKeysFile {tmp / 'authorized_keys'}\n"
        "UsePAM no\n"
        "StrictModes no\n"
        "PubkeyAuthentication yes\n"
        "PasswordAuthentication no\n"
        "KbdInteractiveAuthentication no\n"
        "PermitRootLogin prohibit-password\n"
        "MaxStartups 100:30:200\n"
        "LogLevel ERROR\n"
    )
    return config


def _wait_for_port(process: subprocess.Popen[bytes], port: int) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"sshd exited with status {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"sshd did not listen on port {port} within {START_TIMEOUT_S:g}s")


def start_sshd(
    tmp: Path, host_ca: asyncssh.SSHKey | None = None, extra_config: str = ""
) -> Iterator[SshdServer]:
    """Start sshd in ``tmp``; yield it; stop it (generator for a pytest fixture).

    With ``host_ca`` the server also presents a host certificate signed by it for
    127.0.0.1 (for ``@cert-authority`` known_hosts lines). ``extra_config`` lines come first
    in sshd_config, so they win over the defaults (sshd keeps a keyword's first value).
    """
    binary = find_sshd()
    if binary is None:
        if os.environ.get("CI") == "true":
            pytest.fail("sshd not installed; CI must install openssh-server")
        pytest.skip("needs the OpenSSH server (apt-get install openssh-server)")
    host_key, client_key = generate_key(), generate_key()
    write_private_key(host_key, tmp / "host_key")
    client_key_path = write_private_key(client_key, tmp / "client_key")
    (tmp / "authorized_keys").write_text(public_key_line(client_key) + "\n")
    if os.geteuid() == 0:
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # privilege-separation dir
    port = _free_port()
    extra = extra_config
    if host_ca is not None:
        cert = host_ca.generate_host_certificate(host_key, "127.0.0.1", principals=["127.0.0.1"])
        cert.write_certificate(tmp / "host_key-cert.pub")
        extra += f"HostCertificate {tmp / 'host_key-cert.pub'}\n"
    log = (tmp / "sshd.log").open("wb")
    process = subprocess.Popen(
        [binary, "-D", "-e", "-f", str(_config(tmp, port, extra))], stdout=log, stderr=log
    )
    try:
        _wait_for_port(process, port)
        yield SshdServer(
            host="127.0.0.1",
            port=port,
            user=getpass.getuser(),
            client_key=client_key_path,
            known_hosts_entry=known_hosts_entry("127.0.0.1", port, host_key),
            pid=process.pid,
            authorized_keys=tmp / "authorized_keys",
            host_key_public=public_key_line(host_key),
        )
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        log.close()
