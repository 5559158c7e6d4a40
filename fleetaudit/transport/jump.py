"""Jump hosts (ProxyJump): one connection per jump host, shared by every host behind it.

OpenSSH opens a new connection to the jump host for every target; for a fleet behind one
bastion that is thousands of logins on the bastion. The pool opens one connection per jump
host, tunnels every target through it, and bounds how many targets use it at once (each is
a channel on it, and the bastion's sshd has limits too): a target holds one of the jump
host's slots from before its deadline starts until its session ends. A connection that
goes silent is given up after a limit (:mod:`.silence`), so that the hosts after it get a
new one.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

import asyncssh

from fleetaudit.errors import TransportError
from fleetaudit.model.enums import HostStatus
from fleetaudit.model.jumpspec import JumpSpec, login_label

Opener = Callable[[], Awaitable[asyncssh.SSHClientConnection]]


UNREACHED_KEPT_S = 60.0
"""How long a jump host that could not be reached is not tried again for the hosts behind it.
Each of them used to try it in turn, under one lock, one ``--connect-timeout`` each: the
hundredth host behind a dead bastion waited a hundred timeouts, or its deadline, and held a
``--concurrency`` slot meanwhile. Only network failures are kept: a refused login may
depend on the target's key, which is offered to the jump host too."""


class JumpPool:
    """Shared connections to jump hosts, each with a bound on concurrent tunnels."""

    def __init__(self, per_jump: int = 20) -> None:
        self._per_jump = per_jump
        self._unreached: dict[JumpSpec, tuple[float, TransportError]] = {}
        self._connections: dict[JumpSpec, asyncssh.SSHClientConnection] = {}
        self._locks: dict[JumpSpec, asyncio.Lock] = {}
        self._slots: dict[JumpSpec, asyncio.Semaphore] = {}
        self.opened = 0
        """Connections opened to jump hosts so far (for tests and progress)."""

    def free(self, spec: JumpSpec) -> bool:
        """Whether a tunnel through ``spec`` is free now."""
        slots = self._slots.get(spec)
        return slots is None or not slots.locked()

    @asynccontextmanager
    async def slot(self, spec: JumpSpec) -> AsyncIterator[None]:
        """One of the ``per_jump`` tunnels through ``spec``, held for the block."""
        async with self._slots.setdefault(spec, asyncio.Semaphore(self._per_jump)):
            yield

    async def connection(self, spec: JumpSpec, opener: Opener) -> asyncssh.SSHClientConnection:
        """The connection to ``spec``, made with ``opener`` if there is none yet (or it
        closed); a jump host that could not be reached is not tried again for a while."""
        async with self._locks.setdefault(spec, asyncio.Lock()):
            current = self._connections.get(spec)
            if current is not None and not current.is_closed():
                return current
            if (unreached := self._unreached.get(spec)) is not None:
                since = time.monotonic() - unreached[0]
                if since < UNREACHED_KEPT_S:
                    failed = unreached[1]
                    note = f" ({since:.0f} s ago, for another host behind it: not tried again)"
                    raise TransportError(failed.status, failed.message + note)
            try:
                connection = await opener()
            except TransportError as exc:
                # the opener's messages start with the jump host's name, or say "jump host"
                message = exc.message
                if not message.startswith("jump host "):
                    named = message if message.startswith(str(spec)) else f"{spec}: {message}"
                    message = f"jump host {named}"
                failed = TransportError(exc.status, message)
                if exc.status.unreachable:
                    self._unreached[spec] = (time.monotonic(), failed)
                raise failed from None
            self._connections[spec] = connection
            self.opened += 1
            return connection

    async def aclose(self) -> None:
        """Close every jump connection."""
        for connection in self._connections.values():
            connection.close()
        for connection in self._connections.values():
            await connection.wait_closed()
        self._connections.clear()


DEFAULT_IDENTITIES = ("id_rsa", "id_ecdsa", "id_ecdsa_sk", "id_ed25519", "id_ed25519_sk")
"""The keys OpenSSH tries when the config names no IdentityFile (in ``~/.ssh``)."""


def single_jump(text: str, where: str) -> JumpSpec:
    """The one jump host ``text`` names; a ProxyJump chain (``a,b``) is refused, as the
    inventory refuses it: asyncssh would follow it, but one shared connection per jump host
    is what keeps a bastion from seeing thousands of logins."""
    if "," in text:
        raise TransportError(
            HostStatus.SSH_ERROR,
            f"{where}: ssh_config gives ProxyJump {text}: only one jump host is supported "
            "(no ProxyJump chains)",
        )
    try:
        return JumpSpec.parse(text)
    except ValueError as exc:  # ssh_config is checked before the run: a config read since
        raise TransportError(
            HostStatus.SSH_ERROR, f"{where}: ssh_config gives an invalid ProxyJump: {exc}"
        ) from None


def jump_of_jump(spec: JumpSpec, jump: str) -> str:
    """Why a jump host that ssh_config sends through a jump host of its own is refused."""
    try:
        itself = JumpSpec.parse(jump).address == spec.address
    except ValueError:
        itself = False
    if itself:
        return (
            f"jump host {spec}: ssh_config sends the jump host through itself (ProxyJump in "
            f"a 'Host *' entry?): exclude the jump host from that entry ('Host * !{spec.address}')"
        )
    return (
        f"jump host {spec}: ssh_config gives it a jump host of its own ({jump}): only one jump "
        "host is supported (no ProxyJump chains)"
    )


def jump_identities(own: Sequence[str], target_key: str | None) -> list[str]:
    """The key files to offer a jump host when the target has a key of its own.

    OpenSSH's ``-J`` logs in to the jump host with the jump host's own IdentityFile, never
    the target's ``-i``; fleetaudit offered the target's key alone, which many bastions
    accept. So: the jump host's IdentityFile first (the config says so explicitly), then
    the target's key; without an IdentityFile, the target's key first (what worked until
    now, before a bastion's MaxAuthTries runs out), then OpenSSH's default keys. Empty when
    the target has no key: asyncssh then applies the jump host's config, or its default
    keys, by itself. Missing files are skipped, as OpenSSH skips them."""
    if target_key is None:
        return []
    home = Path("~/.ssh").expanduser()
    if own:
        candidates = [*own, target_key]
    else:
        candidates = [target_key, *(str(home / name) for name in DEFAULT_IDENTITIES)]
    chosen: dict[Path, str] = {}
    for path in candidates:
        full = Path(path).expanduser()
        # the target's key must be readable (its login says so if not); the others may be absent
        if full not in chosen and (path == target_key or full.is_file()):
            chosen[full] = path
    return list(chosen.values())


__all__ = [
    "DEFAULT_IDENTITIES",
    "JumpPool",
    "JumpSpec",
    "jump_identities",
    "jump_of_jump",
    "login_label",
    "single_jump",
]
