"""Throwaway SSH keys for simulated hosts, the demo and tests."""

from __future__ import annotations

import os
from pathlib import Path

import asyncssh


def generate_key() -> asyncssh.SSHKey:
    """A fresh Ed25519 key pair (fast to make, accepted by every current OpenSSH)."""
    return asyncssh.generate_private_key("ssh-ed25519")


def write_private_key(key: asyncssh.SSHKey, path: Path) -> Path:
    """Write ``key`` in OpenSSH format with mode 0600 (ssh refuses laxer ones) and its
    ``.pub`` beside it; returns ``path``."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as stream:
        stream.write(key.export_private_key("openssh"))
    path.with_name(path.name + ".pub").write_bytes(key.export_public_key("openssh"))
    return path


def public_key_line(key: asyncssh.SSHKey) -> str:
    """``ssh-ed25519 AAAA...``: the key as authorized_keys and known_hosts write it."""
    return key.export_public_key("openssh").decode("ascii").strip()


def known_hosts_entry(address: str, port: int, key: asyncssh.SSHKey) -> str:
    """One known_hosts line for a server key, ``[address]:port`` unless port is 22."""
    pattern = address if port == 22 else f"[{address}]:{port}"
    return f"{pattern} {public_key_line(key)}"
