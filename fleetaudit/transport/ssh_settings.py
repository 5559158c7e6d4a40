"""What the SSH transport is told for a run, and the ciphers it offers."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from fleetaudit.model.enums import HostKeyPolicy

CIPHERS = (
    "aes128-gcm@openssh.com",
    "aes256-gcm@openssh.com",
    "chacha20-poly1305@openssh.com",
    "aes256-ctr",
    "aes192-ctr",
    "aes128-ctr",
)
"""asyncssh's default ciphers, AES-GCM first instead of ChaCha20-Poly1305: both are AEAD
ciphers OpenSSH enables by default, but asyncssh builds new cipher contexts for every
ChaCha20 packet, which made encryption a quarter of the client's CPU per host. A server
without AES-GCM still gets ChaCha20 or AES-CTR. Not used when the ssh_config sets Ciphers."""


@dataclass(frozen=True, slots=True)
class SshSettings:
    """Everything the SSH transport needs for a run."""

    known_hosts: tuple[Path, ...]
    host_key_policy: HostKeyPolicy = HostKeyPolicy.STRICT
    accept_new_file: Path | None = None
    connect_timeout: float = 10.0
    login_timeout: float = 20.0
    max_output_bytes: int = 64 * 1024 * 1024
    use_ssh_config: bool = True
    ssh_config: Path | None = None
    """An OpenSSH client config to read instead of ``~/.ssh/config``."""
    jump_concurrency: int = 20
    """Targets tunnelled through one jump-host connection at once."""
    jump_silence_s: float | None = None
    """How long a jump-host connection may send nothing before it is given up, so that the
    hosts after it get a new one (None: never); shorter once a tunnel through it timed
    out. The run uses the host deadline (see :mod:`.silence`)."""
