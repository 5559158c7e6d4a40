"""What the run's OpenSSH client config does to a host, resolved only where it can matter.

asyncssh applies ssh_config inside ``connect``; fleetaudit needs two answers from it before
or after that: the ``ProxyJump`` of a host (so that hosts behind one jump host share one
connection to it) and, after a failure, the ``user@host:port`` the config really connected
to (``HostName``, ``Port``, ``User``). Resolving the config costs about a millisecond per
host, so each answer is skipped when the config's text shows it cannot matter.
"""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Any

import asyncssh

# asyncssh's "not given" for config, port and username: () reads ~/.ssh/config
_DEFAULT: tuple[()] = ()


class SshConfigView:
    """The run's ssh_config (``path``, or ``~/.ssh/config``; none when ``use`` is False)."""

    def __init__(self, use: bool, path: Path | None) -> None:
        text = _config_text(use, path)
        self._config: list[str] | tuple[()] = [str(path)] if path else _DEFAULT
        self._may_jump = "proxyjump" in text or "include" in text
        self._may_redirect = any(
            word in text for word in ("hostname", "port", "user", "include", "match")
        )
        self.sets_ciphers = "ciphers" in text or "include" in text
        """Whether it may choose the ciphers (fleetaudit's own list is then not imposed)."""
        self._jumps: dict[str, str | None] = {}

    async def jump_for(self, address: str) -> str | None:
        """The ProxyJump the config gives ``address``, if any (resolved once per address)."""
        if not self._may_jump:
            return None
        if address not in self._jumps:
            resolved = await _resolve(self._config, address, {})
            tunnel = getattr(resolved, "tunnel", None)
            self._jumps[address] = tunnel if isinstance(tunnel, str) else None
        return self._jumps[address]

    async def target(self, address: str, options: dict[str, Any]) -> tuple[str, int, str] | None:
        """The ``(host, port, user)`` the config makes of ``address`` connected with
        ``options`` (the inventory's ``port``/``username`` win over the config); None when
        the config cannot be read (connecting reports why)."""
        if not self._may_redirect:
            return address, options.get("port", 22), options.get("username", getpass.getuser())
        resolved = await _resolve(options.get("config", self._config), address, options)
        if resolved is None:
            return None
        return resolved.host, resolved.port, resolved.username

    async def described(self, where: str, address: str, options: dict[str, Any]) -> str:
        """``where`` (what the inventory says), plus the ``user@host:port`` the config made
        of it when that differs: an error naming only the inventory's address and port 22
        sends the operator to the wrong machine. ``options`` are the connection's."""
        target = await self.target(address, options)
        if target is None:
            return where  # the connection error says what went wrong
        host, port, user = target
        unchanged = (host, port) == (address, options.get("port", 22))
        if unchanged and ("username" in options or user == getpass.getuser()):
            return where
        shown = f"[{host}]" if ":" in host else host
        return f"{where} ({user}@{shown}:{port} by ssh_config)"


async def _resolve(
    config: list[str] | tuple[()], address: str, options: dict[str, Any]
) -> asyncssh.SSHClientConnectionOptions | None:
    """asyncssh's reading of the config for ``address`` (with the connection's explicit
    port and user), or None when the config cannot be read: the connection reports that."""
    try:
        resolved: asyncssh.SSHClientConnectionOptions
        resolved = await asyncssh.SSHClientConnectionOptions.construct(
            config=config,
            host=address,
            port=options.get("port", _DEFAULT),
            username=options.get("username", _DEFAULT),
            known_hosts=None,
            client_keys=None,
        )
    except (OSError, ValueError, asyncssh.Error):
        return None
    return resolved


def _config_text(use: bool, path: Path | None) -> str:
    """The config's text, lower-cased ("" when none is read)."""
    if not use:
        return ""
    try:
        return (
            (path or Path("~/.ssh/config").expanduser())
            .read_text(encoding="utf-8", errors="replace")
            .lower()
        )
    except OSError:
        return ""
