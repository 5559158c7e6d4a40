"""Building blocks for transport tests: a key pair on disk, hosts, settings, fd counting."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import asyncssh

from fleetaudit.inventory.model import Host
from fleetaudit.lab.keys import generate_key, write_private_key
from fleetaudit.model.enums import HostKeyPolicy
from fleetaudit.transport import SshSettings


@dataclass(frozen=True)
class Client:
    """The client side of a test: its key (in memory and on disk) and a scratch dir."""

    key: asyncssh.SSHKey
    key_path: Path
    tmp: Path

    @classmethod
    def create(cls, tmp: Path) -> Client:
        key = generate_key()
        return cls(key, write_private_key(key, tmp / "id_ed25519"), tmp)

    def host(self, port: int, *, user: str = "audit", address: str = "127.0.0.1") -> Host:
        return Host(name="target", address=address, port=port, user=user, key=str(self.key_path))

    def settings(
        self,
        known_hosts_lines: list[str],
        policy: HostKeyPolicy = HostKeyPolicy.STRICT,
        **overrides: object,
    ) -> SshSettings:
        known_hosts = self.tmp / "known_hosts"
        known_hosts.write_text("".join(line + "\n" for line in known_hosts_lines))
        values: dict[str, object] = {
            "known_hosts": (known_hosts,),
            "host_key_policy": policy,
            "accept_new_file": self.tmp / "state" / "known_hosts",
            "connect_timeout": 5.0,
            "login_timeout": 5.0,
            "use_ssh_config": False,
            **overrides,
        }
        return SshSettings(**values)  # type: ignore[arg-type]


def open_fds() -> int:
    """How many file descriptors this process holds."""
    return len(os.listdir("/proc/self/fd"))
