"""What the run's OpenSSH client config does to a host, resolved only where it can matter.

asyncssh applies ssh_config inside ``connect``; fleetaudit needs answers from it before or
after that: the ``ProxyJump`` of a host (so that hosts behind one jump host share one
connection to it), a jump host's own ``IdentityFile``, and, after a failure, the
``user@host:port`` the config really connected to (``HostName``, ``Port``, ``User``).
Resolving the config costs about a millisecond per host, so each answer is skipped when the
config's text shows it cannot matter.

The file is checked once, when the view is made (:func:`check_ssh_config`): a broken
ssh_config is the user's mistake and stops the run before it connects, as OpenSSH refuses
it, instead of failing every host.

Where OpenSSH and asyncssh differ, the view follows OpenSSH: ``ProxyCommand`` and
``ProxyJump`` exclude each other, and the first one given wins (asyncssh would let
ProxyJump win); ``ProxyJump none`` is no jump.
"""

from __future__ import annotations

import asyncio
import getpass
import shlex
import socket
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from asyncssh.config import ConfigParseError, SSHClientConfig, SSHConfig

from fleetaudit.errors import TransportError
from fleetaudit.model.enums import HostStatus
from fleetaudit.transport.jump import login_label
from fleetaudit.transport.sshconfig_check import check_ssh_config

# asyncssh's "not given" for config, port and username: () reads ~/.ssh/config
_DEFAULT: tuple[()] = ()

_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class HostConfig:
    """What the config makes of one address (explicit port and user winning)."""

    host: str
    port: int
    user: str
    jump: str | None = None
    """The ProxyJump that wins (None: none, ``ProxyJump none``, or a ProxyCommand won)."""
    proxy_command: str | None = None
    identity_files: tuple[str, ...] = ()
    known_hosts_files: tuple[str, ...] = ()
    """``UserKnownHostsFile``: fleetaudit does not read these (see :mod:`.hostkeys`)."""
    strict_host_key_checking: str | None = None
    host_key_alias: str | None = None
    server_alive_interval: int | None = None
    """``ServerAliveInterval`` where the config gives one (0: no keepalives)."""
    server_alive_count_max: int | None = None


class SshConfigView:
    """The run's ssh_config (``path``, or ``~/.ssh/config``; none when ``use`` is False).
    Raises :class:`~fleetaudit.errors.InputError` when the file is broken."""

    def __init__(self, use: bool, path: Path | None, commands_within: float = 10.0) -> None:
        text = _config_text(use, path)
        self._commands_within = commands_within
        """How long the ``Match exec`` commands of one reading may take (--connect-timeout)."""
        if text:
            check_ssh_config(path or Path("~/.ssh/config").expanduser())
        self._config: list[str] | tuple[()] = [] if not use else [str(path)] if path else _DEFAULT
        self._may_jump = "proxyjump" in text or "include" in text
        self._may_redirect = any(
            word in text
            for word in ("hostname", "port", "user", "hostkeyalias", "include", "match")
        )
        self.runs_commands = "exec" in text or "include" in text
        """Whether resolving may run a ``Match exec`` command, which can take any time: the
        transport then resolves off the event loop (:meth:`off_loop`)."""
        self.sets_ciphers = "ciphers" in text or "include" in text
        """Whether it may choose the ciphers (fleetaudit's own list is then not imposed)."""
        self._resolved: dict[tuple[str, int | None, str | None], HostConfig | None] = {}
        self._text = text

    def jump_for(self, address: str) -> str | None:
        """The ProxyJump the config gives ``address``, if any (resolved once per address)."""
        if not self._may_jump:
            return None
        resolved = self.resolve(address)
        return resolved.jump if resolved is not None else None

    def resolve(
        self, address: str, port: int | None = None, user: str | None = None
    ) -> HostConfig | None:
        """The config's reading of ``address`` (None when it cannot be read: connecting
        reports why); cached, as every host behind a jump asks about the same jump. May be
        called from a worker thread (the cache's one-key writes need no lock)."""
        key = (address, port, user)
        if key not in self._resolved:
            self._resolved[key] = _resolve(self._config, address, port, user)
        return self._resolved[key]

    async def off_loop(self, work: Callable[[], _T], where: str) -> _T:
        """``work``, which reads the config for ``where``, in a worker thread when the config
        may run ``Match exec`` commands: on the event loop, each host's command stopped every
        other host (QA: 20 hosts with a 0.3 s command took 7 s at --concurrency 20, one
        host's 8 s command outlived --connect-timeout 2). It is given up after
        --connect-timeout, a TransportError naming the commands (a hung one held a host
        waiting for a jump host's tunnel, outside its deadline, for ever: QA), and the run's
        loop lends threads the end of the run does not wait for."""
        if not self.runs_commands:
            return work()
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(self._commands_within):
                threads = getattr(loop, "detached_threads", None)
                return await loop.run_in_executor(threads, work)
        except TimeoutError:
            # not a timeout, which --allow-unreachable excuses: the audit machine's own
            # config failed, and the host may be up (QA)
            raise TransportError(
                HostStatus.SSH_ERROR,
                f"{where}: ssh_config's Match exec commands did not finish within "
                f"{self._commands_within:g}s (--connect-timeout): one hangs, so the config "
                "could not be read (the command is left running)",
            ) from None

    def says(self, *words: str) -> bool:
        """Whether the config may set any of ``words`` (lower-case option names)."""
        return any(word in self._text for word in (*words, "include"))

    async def target(self, address: str, options: dict[str, Any]) -> tuple[str, int, str] | None:
        """The ``(host, port, user)`` the config makes of ``address`` connected with
        ``options`` (the inventory's ``port``/``username`` win over the config); None when
        the config cannot be read (connecting reports why)."""
        port, user = options.get("port"), options.get("username")
        other = options.get("config", self._config)
        if other and list(other) != list(self._config):  # a config of the caller's own
            resolved = await self.off_loop(
                partial(_resolve, list(other), address, port, user), address
            )
        elif not self._may_redirect:
            return address, port or 22, user or getpass.getuser()
        else:
            resolved = await self.off_loop(partial(self.resolve, address, port, user), address)
        if resolved is None:
            return None
        return resolved.host, resolved.port, resolved.user

    def key_name(self, address: str, options: dict[str, Any]) -> tuple[str, int | None]:
        """What known_hosts lists the host's keys under, as OpenSSH looks them up: its
        ``HostKeyAlias`` alone, else the ``HostName`` the config gives ``address`` (or
        ``address``) with the port, None for 22. Lower-cased, as OpenSSH lower-cases host
        names: known_hosts entries are matched without regard to case; an IP address in
        its shortest form, as OpenSSH writes it (``127.1`` is ``127.0.0.1``)."""
        port, user = options.get("port"), options.get("username")
        resolved = self.resolve(address, port, user) if self._may_redirect else None
        if resolved is None:
            return _canonical(address), None if port in (None, 22) else port
        if resolved.host_key_alias is not None:
            return resolved.host_key_alias.lower(), None
        return _canonical(resolved.host), None if resolved.port == 22 else resolved.port

    def port_for(self, address: str, user: str | None) -> int:
        """The port a host the inventory gives no port is reached on: the config's
        ``Port`` for ``address``, else 22 (a config that cannot be read: 22, and connecting
        reports why)."""
        resolved = self.resolve(address, None, user) if self._may_redirect else None
        return 22 if resolved is None else resolved.port

    async def proxy_program(self, address: str, options: dict[str, Any]) -> str | None:
        """The program of the ProxyCommand the config gives ``address`` connected with
        ``options`` (the command's first word), None when it gives none."""
        if not self.says("proxycommand"):
            return None
        port, user = options.get("port"), options.get("username")
        resolved = await self.off_loop(partial(self.resolve, address, port, user), address)
        command = resolved.proxy_command if resolved is not None else None
        try:
            words = shlex.split(command or "")
        except ValueError:  # an unclosed quote: asyncssh fails it its own way
            return None
        return words[0] if words else None

    async def described(self, where: str, address: str, options: dict[str, Any]) -> str:
        """``where`` (what the inventory says, with the port really used), plus the
        ``user@host:port`` the config made of it when it names another machine or user:
        an error naming only the inventory's alias sends the operator to the wrong machine.
        ``options`` are the connection's."""
        target = await self.target(address, options)
        if target is None:
            return where  # the connection error says what went wrong
        host, port, user = target
        if host == address and ("username" in options or user == getpass.getuser()):
            return where
        return f"{where} ({login_label(user, host, port)} by ssh_config)"


def _canonical(host: str) -> str:
    """``host`` lower-cased, or an IP address as OpenSSH canonicalises it before looking
    it up in known_hosts (``getaddrinfo`` and ``getnameinfo``, numeric only: no name is
    resolved): ``0:0:0:0:0:0:0:1`` is ``::1``, ``127.1`` and ``0x7f000001`` are
    ``127.0.0.1``, ``fe80::0001%3`` is ``fe80::1%eth0``."""
    try:
        found = socket.getaddrinfo(host, None, flags=socket.AI_NUMERICHOST)
        return socket.getnameinfo(found[0][4], socket.NI_NUMERICHOST)[0]
    except (OSError, UnicodeError, ValueError):
        return host.lower()


class _Resolver(SSHClientConfig):
    """asyncssh's reading of a client config, with OpenSSH's rule that ``ProxyCommand``
    and ``ProxyJump`` exclude each other (the first wins; ``ProxyJump none`` does not
    count) and ``StrictHostKeyChecking`` kept, to be named in host-key messages."""

    def _set_proxy_command(self, option: str, args: list[str]) -> None:
        if self._options.get("ProxyJump"):
            args.clear()
        else:
            SSHConfig._set_string(self, option, args)

    def _set_proxy_jump(self, option: str, args: list[str]) -> None:
        if "ProxyCommand" in self._options:
            args.clear()
        else:
            SSHConfig._set_string(self, option, args)

    _handlers = {
        **SSHClientConfig._handlers,
        "proxycommand": ("ProxyCommand", _set_proxy_command),
        "proxyjump": ("ProxyJump", _set_proxy_jump),
        "stricthostkeychecking": ("StrictHostKeyChecking", SSHConfig._set_string),
    }


def _resolve(
    config: list[str] | tuple[()], address: str, port: int | None, user: str | None
) -> HostConfig | None:
    """The config for ``address``; None when it cannot be read (the connection says why)."""
    paths = config if config != _DEFAULT else _default_paths()
    local = getpass.getuser()
    try:
        read = _Resolver.load(
            None, paths, False, False, False, local, user or _DEFAULT, address, port or _DEFAULT
        )
    except (OSError, ValueError, ConfigParseError):
        return None
    return HostConfig(
        host=str(read.get("Hostname", address)),
        port=port or _number(read.get("Port")) or 22,
        user=str(user or read.get("User") or local),
        jump=_text(read.get("ProxyJump")),
        proxy_command=_text(read.get("ProxyCommand")),
        identity_files=_texts(read.get("IdentityFile")),
        known_hosts_files=_texts(read.get("UserKnownHostsFile")),
        strict_host_key_checking=_text(read.get("StrictHostKeyChecking")),
        host_key_alias=_text(read.get("HostKeyAlias")),
        server_alive_interval=_number(read.get("ServerAliveInterval")),
        server_alive_count_max=_number(read.get("ServerAliveCountMax")),
    )


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _texts(value: object) -> tuple[str, ...]:
    return tuple(str(item) for item in value) if isinstance(value, list) else ()


def _number(value: object) -> int | None:
    return value if isinstance(value, int) else None


def _default_paths() -> list[str]:
    path = Path("~/.ssh/config").expanduser()
    return [str(path)] if path.is_file() else []


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
