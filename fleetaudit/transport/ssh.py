"""The SSH transport: asyncssh, public keys only, host keys verified, output capped.

One connection per host, one exec per connection (:mod:`.ssh_session` runs it). Settings
that cost I/O (known_hosts, private keys) are loaded once per run, not once per host: a
fleet run opens thousands of connections.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Hashable
from contextlib import asynccontextmanager
from dataclasses import replace
from functools import partial
from typing import Any

import asyncssh

from fleetaudit.errors import TransportError
from fleetaudit.inventory.model import Host
from fleetaudit.model.enums import HostKeyPolicy, HostStatus
from fleetaudit.transport.errors import after_banner, connect_timeout, proxy_failed, translate
from fleetaudit.transport.hostkeys import HostKeyBook, known_hosts_note
from fleetaudit.transport.interface import Session, Transport
from fleetaudit.transport.jump import (
    JumpPool,
    JumpSpec,
    jump_identities,
    jump_of_jump,
    login_label,
    single_jump,
)
from fleetaudit.transport.lookup_watch import watching
from fleetaudit.transport.silence import SilenceLimit, given_up_for_silence
from fleetaudit.transport.ssh_client import Client, PrivateKeys, naming_key, revoked
from fleetaudit.transport.ssh_session import LOGIN_SHELL_COMMAND as LOGIN_SHELL_COMMAND
from fleetaudit.transport.ssh_session import SshSession
from fleetaudit.transport.ssh_settings import CIPHERS, SshSettings
from fleetaudit.transport.sshconfig import SshConfigView


class SshTransport(Transport):
    """Opens asyncssh connections with fleetaudit's security rules applied."""

    def __init__(self, settings: SshSettings) -> None:
        self._settings = settings
        self._book: HostKeyBook | None = None
        if settings.host_key_policy is not HostKeyPolicy.INSECURE:
            # Keys an earlier --accept-new run recorded are trusted by strict runs too (as
            # OpenSSH's accept-new writes to the known_hosts later strict runs read); only an
            # --accept-new run adds to that file.
            accept_new = settings.host_key_policy is HostKeyPolicy.ACCEPT_NEW
            self._book = HostKeyBook(
                settings.known_hosts, settings.accept_new_file, learn=accept_new
            )
        self._keys = PrivateKeys()
        self._jumps = JumpPool(settings.jump_concurrency)
        self._jump_clients: dict[JumpSpec, Client] = {}
        """The newest connection to each jump host, by its asyncssh client object."""
        self._config = SshConfigView(
            settings.use_ssh_config, settings.ssh_config, settings.connect_timeout
        )
        self.verifies_host_keys = self._book is not None  # False: --insecure-no-host-key-check

    @asynccontextmanager
    async def admission(self, host: Host) -> AsyncIterator[None]:
        """A host behind a jump host waits here for one of its tunnels."""
        spec = await self._config.off_loop(
            lambda: self._jump_spec(host, self._where(host)), f"{host.address} or its jump host"
        )
        if spec is None:
            yield
            return
        async with self._jumps.slot(spec):
            yield

    def queue_of(self, host: Host) -> Hashable | None:
        """The jump host ``host`` waits for a tunnel of (an error is left to admission).
        None when the config may run ``Match exec`` commands, which the scheduler must not
        wait for: such a host waits for its tunnel in :meth:`admission`."""
        if self._config.runs_commands:
            return None
        try:
            return self._jump_spec(host, self._where(host))
        except TransportError:
            return None

    def queue_free(self, queue: Hashable) -> bool:
        return not isinstance(queue, JumpSpec) or self._jumps.free(queue)

    async def open(self, host: Host) -> Session:
        route = partial(self._route, host)
        where, spec = await self._config.off_loop(route, f"{host.address} or its jump host")
        cap = self._settings.max_output_bytes
        if spec is None:
            # ssh_config's ProxyJump is fleetaudit's to follow (_jump_spec), never asyncssh's:
            # asyncssh would prefer it to a ProxyCommand given before it, OpenSSH does not.
            options = self._options(host.port, host.user, host.key, where)
            direct = {**options, "tunnel": None}
            connection = await naming_key(self._connect(host.address, direct, where), host.key)
            return SshSession(connection, where, cap)
        where = f"{where} via {spec}"
        options = self._options(host.port, host.user, host.key, where)
        opener = partial(self._connect_jump, spec, host.key)
        tunnel = await self._jumps.connection(spec, opener)
        tunnelled = {**options, "tunnel": tunnel}
        try:
            connection = await naming_key(self._connect(host.address, tunnelled, where), host.key)
        except TransportError as exc:
            raise self._through_jump_failed(spec, tunnel, exc) from None
        return SshSession(connection, where, cap)

    def _through_jump_failed(
        self, spec: JumpSpec, tunnel: asyncssh.SSHClientConnection, error: TransportError
    ) -> TransportError:
        """``error`` of a host behind ``spec``, after watching the jump connection closer
        when it was a timeout (the first sign of a silent connection, see :mod:`.silence`),
        and naming the silence when the connection was given up for it."""
        client = self._jump_clients.get(spec)
        if client is None or client.connection is not tunnel:
            return error
        if error.status is HostStatus.TIMEOUT and client.silence is not None:
            shorter = client.silence.shortened(self._settings.connect_timeout)
            if shorter is not None and not tunnel.is_closed():
                shorter.apply_to(tunnel)
                client.silence = shorter
        return given_up_for_silence(error, spec, client.lost, client.silence)

    def _route(self, host: Host) -> tuple[str, JumpSpec | None]:
        """Where ``host`` is, and the jump host it is reached through."""
        where = self._where(host)
        return where, self._jump_spec(host, where)

    def _where(self, host: Host) -> str:
        """``user@address:port`` of the host, with the port ssh_config gives it."""
        port = host.port or self._config.port_for(host.address, host.user)
        return login_label(host.user, host.address, port)

    def _jump_spec(self, host: Host, where: str) -> JumpSpec | None:
        """The jump host ``host`` is reached through (the inventory's, else ssh_config's
        ProxyJump), with the port really used; None for a direct connection."""
        jump = host.jump or self._config.jump_for(host.address)
        if jump is None or jump.lower() == "none":  # the inventory's "none": no jump at all
            return None
        spec = single_jump(jump, where)
        if spec.port is None:  # named with the port really used, as the target is
            spec = replace(spec, port=self._config.port_for(spec.address, spec.user))
        return spec

    async def aclose(self) -> None:
        """Close the jump-host connections."""
        await self._jumps.aclose()

    @property
    def jump_connections_opened(self) -> int:
        """How many connections to jump hosts this run opened."""
        return self._jumps.opened

    async def _connect(
        self, address: str, options: dict[str, Any], where: str
    ) -> asyncssh.SSHClientConnection:
        """One verified, authenticated connection; every failure as a TransportError."""
        key_name = await self._config.off_loop(
            partial(self._config.key_name, address, options), where
        )
        client = Client(self._book, key_name)
        if self._book is not None:
            options = {**options, **self._host_key_options(*client.key_name)}
        try:
            with watching() as lookups:
                connection, _ = await asyncssh.create_connection(lambda: client, address, **options)
        except Exception as exc:
            looking_up = lookups.unanswered
            raise await self._failure(exc, client, address, options, where, looking_up) from None
        return connection

    async def _failure(
        self,
        exc: Exception,
        client: Client,
        address: str,
        options: dict[str, Any],
        where: str,
        looking_up: str | None,
    ) -> TransportError:
        """What a failed connection attempt to ``address`` says (``looking_up``: the name
        whose lookup was left unanswered, if any)."""
        # name the machine really connected to (an alias's HostName and Port)
        where = await self._config.described(where, address, options)
        if client.refusal is not None and self._book is not None:
            note = known_hosts_note(self._config, address, client.refusal)
            message = self._book.refusal_message(
                client.refusal, where, client.offered, client.key_name
            )
            return TransportError(client.refusal, message + note)
        if self._book is not None and revoked(exc):
            message = self._book.revoked_message(where, client.key_name)
            return TransportError(HostStatus.HOST_KEY_CHANGED, message)
        proxy = await self._config.proxy_program(address, options)
        if isinstance(exc, asyncssh.TimeoutError | TimeoutError):
            seconds = options["connect_timeout"]
            return connect_timeout(where, seconds, client.connection, looking_up, proxy)
        if proxy is not None and isinstance(exc, OSError) and exc.filename == proxy:
            return proxy_failed(where, proxy, exc)
        error = after_banner(translate(exc, where=where, phase="connect"), client.connection)
        if proxy is not None and error.status is HostStatus.CONNECTION_LOST:
            # no TCP connection of fleetaudit's own: the command ended (QA: it said only
            # "connection lost during connect")
            note = (
                f", through ssh_config's ProxyCommand ({proxy}): the command ended, or lost "
                "its own connection to the host"
            )
            return TransportError(error.status, error.message + note)
        return error

    async def _connect_jump(
        self, spec: JumpSpec, target_key: str | None
    ) -> asyncssh.SSHClientConnection:
        """Log in to a jump host as OpenSSH's ``-J`` does, with the jump host's own
        ssh_config (HostName, Port, User, IdentityFile: asyncssh applies them), and then
        with the target's key, which jump hosts accepted before fleetaudit read their own
        IdentityFile (:func:`jump_identities`)."""
        own = await self._config.off_loop(
            partial(self._config.resolve, spec.address, spec.port, spec.user), str(spec)
        )
        if own is not None and own.jump is not None:
            raise TransportError(HostStatus.SSH_ERROR, jump_of_jump(spec, own.jump))
        options = self._options(spec.port, spec.user, None, str(spec))
        silence = SilenceLimit.for_jump(
            self._settings.jump_silence_s,
            own.server_alive_interval if own is not None else None,
            own.server_alive_count_max if own is not None else None,
        )
        options.update(silence.options() if silence is not None else {})
        keys = jump_identities(own.identity_files if own else (), target_key)
        if keys:
            loaded = [self._keys.load(path, str(spec)) for path in keys]
            # an encrypted key (None) is left to the ssh-agent, which asyncssh also asks
            options["client_keys"] = [key for key in loaded if key is not None]
        connection = await self._connect(spec.address, {**options, "tunnel": None}, str(spec))
        client = connection.get_owner()
        if isinstance(client, Client):  # kept to say why the connection closed, if it does
            client.silence = silence
            self._jump_clients[spec] = client
        return connection

    def _host_key_options(self, name: str, port: int | None) -> dict[str, Any]:
        """The keys to trust for a host listed under ``name`` and ``port``, and the host key
        algorithms to offer it (unless ssh_config chooses them)."""
        assert self._book is not None
        choose = not self._config.says("hostkeyalgorithms")
        return self._book.connection_options(name, port, choose_algs=choose)

    def _options(
        self, port: int | None, user: str | None, key_path: str | None, where: str
    ) -> dict[str, Any]:
        """asyncssh's options for one login (a host or a jump host); an unreadable key
        file fails that login."""
        options = self._base_options()
        if port is not None:
            options["port"] = port
        if user:
            options["username"] = user
        if key_path:
            key = self._keys.load(key_path, where)
            if key is not None:
                options["client_keys"] = [key]
            # else: an encrypted key; the ssh-agent holding it answers (asyncssh's default)
        return options

    def _base_options(self) -> dict[str, Any]:
        settings = self._settings
        options: dict[str, Any] = {
            # a host's own known_hosts and algorithms: _host_key_options; None: no checking
            "known_hosts": None,
            "connect_timeout": settings.connect_timeout,
            # --connect-timeout bounds the login too: asyncssh's login timer must not cut it
            "login_timeout": max(settings.login_timeout, settings.connect_timeout),
            # BatchMode: a host that would ask for a password fails as "auth failed".
            "password_auth": False,
            "kbdint_auth": False,
            "agent_forwarding": False,
        }
        if not self._config.sets_ciphers:
            options["encryption_algs"] = list(CIPHERS)
        if not settings.use_ssh_config:
            options["config"] = []
        elif settings.ssh_config is not None:
            options["config"] = [str(settings.ssh_config)]
        return options
