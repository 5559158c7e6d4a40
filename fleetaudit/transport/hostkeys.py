"""Host-key trust: known_hosts read once per run, unknown told apart from changed, and
trust-on-first-use (``--accept-new``) written to fleetaudit's own file.

Keys are looked up as OpenSSH does by default (``CheckHostIP no``): under the name the host
is reached by (its inventory address, or ssh_config's ``HostName``, lower-cased), as
``[name]:port`` unless the port is 22 and then, for a kind of key that entry does not list,
as the bare name (:func:`_with_bare_name`); or under ssh_config's ``HostKeyAlias`` alone;
never under the IP address the name resolved to. asyncssh on its own trusts a key listed
under either, so a host whose name's entry lists another key would pass because its
address's entry lists the key it offers (a recycled IP, another fleet host reached through
a wrong DNS record). The server is offered the kinds of key listed for it first, then the
others (:meth:`HostKeyBook._offered_algs`). asyncssh accepts a key listed for the name by
itself; any other key reaches
:meth:`HostKeyBook.judge`, which says whether the host was unknown (no key listed) or changed
(a different key listed: refused under every policy, as OpenSSH does). Keys recorded in
fleetaudit's own file by an earlier ``--accept-new`` run are trusted by later strict runs,
as OpenSSH's accept-new records into the known_hosts its later strict runs read.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import asyncssh
from asyncssh.public_key import get_default_certificate_algs, get_default_public_key_algs

from fleetaudit.model.enums import HostStatus
from fleetaudit.transport.known_hosts_file import (
    lower_case_hosts,
    read_known_hosts,
    refuse_planted,
)

if TYPE_CHECKING:
    from fleetaudit.transport.sshconfig import SshConfigView


class HostKeyBook:
    """The known_hosts files of a run, parsed once, plus the accept-new file.

    ``learn_file`` is where ``--accept-new`` records keys; its keys are trusted too, and it
    is written only when ``learn`` is set, so a strict run can trust what an earlier
    ``--accept-new`` run recorded without learning anything itself.
    """

    def __init__(
        self, files: Sequence[Path], learn_file: Path | None, *, learn: bool = True
    ) -> None:
        self._learn_file = learn_file if learn else None
        extra = [learn_file] if learn_file is not None and learn_file not in files else []
        self._sources = (*files, *extra)
        for path in self._sources:
            refuse_planted(path)
        texts = [read_known_hosts(path) for path in self._sources]
        pairs = zip(self._sources, texts, strict=True)
        # each file that revokes keys, on its own: a refusal names the ones that apply
        self._revoking = [
            (path, asyncssh.import_known_hosts(lower_case_hosts(text)))
            for path, text in pairs
            if "@revoked" in text
        ]
        text = "".join(texts)
        self._known = asyncssh.import_known_hosts(lower_case_hosts(text))
        self._learnt: dict[tuple[str, int | None], asyncssh.SSHKey] = {}

    def connection_options(
        self, name: str, port: int | None, *, choose_algs: bool = True
    ) -> dict[str, Any]:
        """asyncssh's options for a host whose keys are listed under ``name`` and ``port``
        (None: no port, 22 or a HostKeyAlias), from one lookup of each name (hashed
        entries cost an HMAC each): ``known_hosts``, the keys listed there (see
        :func:`_with_bare_name`), whatever name and address asyncssh asks about; and, with
        ``choose_algs``, the host key algorithms to offer."""
        listed = self._listed(name, port)
        trusted = listed if port is None else _with_bare_name(listed, self._listed(name, None))
        options: dict[str, Any] = {"known_hosts": lambda *_: trusted}
        if choose_algs:
            algs = self._offered_algs(listed[0], bool(trusted[1]), (name, port))
            options["server_host_key_algs"] = algs
        return options

    def _offered_algs(
        self, listed: Sequence[asyncssh.SSHKey], ca: bool, key_name: tuple[str, int | None]
    ) -> list[str]:
        """The host key algorithms to offer the server, ordered as OpenSSH orders them:
        those of the keys ``listed`` for the host (under ``[name]:port``, not the bare
        name) first, so that a server with several keys shows a listed one; certificates
        only when a ``ca`` is listed for the host (the certificate of an unknown CA would
        hide the plain key); then every other default, so that a server without a listed
        kind of key still shows one, to be refused as changed rather than dropping the
        connection as if the host were unreachable."""
        learnt = self._learnt.get(key_name)
        algs = list(get_default_certificate_algs()) if ca else []
        for key in (*listed, *([learnt] if learnt is not None else [])):
            algs += key.sig_algorithms
        # OpenSSH's order for the rest: RSA last, so that --accept-new learns the newer key
        algs += sorted(get_default_public_key_algs(), key=lambda alg: b"rsa" in alg)
        return [alg.decode("ascii") for alg in dict.fromkeys(algs)]

    def judge(self, name: str, port: int | None, key: asyncssh.SSHKey) -> HostStatus | None:
        """None when ``key`` is trusted (possibly just learnt), else why it is refused:
        changed when another key is listed for the host, unknown when none is (a CA listed
        for it judges certificates, not a plain key, as in OpenSSH)."""
        if self._learnt.get((name, port)) == key:
            return None
        if self._listed(name, port)[0]:
            return HostStatus.HOST_KEY_CHANGED
        if self._learn_file is None:
            return HostStatus.HOST_KEY_UNKNOWN
        self._learn(name, port, key)
        return None

    def _listed(self, name: str, port: int | None) -> Any:
        """The entries for ``[name]:port`` (``name`` alone for port None) and no other:
        asyncssh's own lookup falls back to the bare name when ``[name]:port`` lists no
        trusted key, for every kind of key, and loses the ``@revoked`` lines found for
        ``[name]:port`` on the way, so a revoked key was learnt."""
        return _entries(self._known, name, port)

    def refusal_message(
        self,
        status: HostStatus,
        where: str,
        key: asyncssh.SSHKey | None = None,
        listed_as: tuple[str, int | None] | None = None,
    ) -> str:
        """What the operator should know and do about a refused key: the files consulted
        (the operator must know which one to fix), the name the host's keys are looked up
        under (``listed_as``: its HostKeyAlias or HostName, with the port), and, given the
        ``key`` the server offered, its SHA256 fingerprint, to compare with ``ssh-keyscan
        HOST | ssh-keygen -lf -`` run on a trusted path."""
        files = self._consulted()
        offered = f" The server offered {key.get_fingerprint('sha256')}." if key else ""
        entry = "" if listed_as is None else f" as {_pattern(*listed_as)}"
        if status is HostStatus.HOST_KEY_CHANGED:
            holders = self._holders(*listed_as) if listed_as is not None else []
            fix = "fix the entry"
            if listed_as is not None and holders:
                fix = (
                    f"remove the old entry (ssh-keygen -R '{_pattern(*listed_as)}' -f "
                    f"{os.path.abspath(holders[0].expanduser())}) and add the new key, or "
                    "let --accept-new learn it"
                )
                files += f"; the entry is in {', '.join(str(path) for path in holders)}"
            return (
                f"{where}: HOST KEY CHANGED: the server's key differs from the one listed "
                f"for it{entry} in known_hosts ({files}): a reinstall, or a man-in-the-middle; "
                f"fleetaudit refuses it under every policy.{offered} Verify it, then {fix}."
            )
        return (
            f"{where}: host key is not in known_hosts ({files}){entry}; verify it and add it, "
            f"or run with --accept-new to trust it on first use.{offered}"
        )

    def revoked_message(self, where: str, listed_as: tuple[str, int | None]) -> str:
        """A refusal of a key (or of its certificate's CA) that known_hosts marks
        ``@revoked`` for the host: asyncssh refuses it before showing it to fleetaudit, so
        the message names the revoked entries that apply to the host (``listed_as``), by
        fingerprint, and the files they are in."""
        name, port = listed_as
        revoked = self._listed(name, port)[2]
        fingerprints = ", ".join(key.get_fingerprint("sha256") for key in revoked)
        listed = f"; the keys revoked for it: {fingerprints}" if fingerprints else ""
        files = ", ".join(str(p) for p, known in self._revoking if _entries(known, name, port)[2])
        return (
            f"{where}: HOST KEY REVOKED: the key the server offered (or its certificate's CA) "
            f"is marked @revoked for {_pattern(name, port)} in known_hosts ({files}){listed}; "
            "fleetaudit refuses it under every policy. Give the host a new key and list that "
            "one."
        )

    def _consulted(self) -> str:
        """The files this book read (a missing one counts as empty, and is said to be
        missing), as given."""
        shown = [
            str(path) if path.expanduser().exists() else f"{path}: missing"
            for path in self._sources
        ]
        return ", ".join(shown) or "no known_hosts file"

    def _holders(self, name: str, port: int | None) -> list[Path]:
        """The files that list keys or a CA for ``[name]:port``: where the entry to fix is.
        Read again (a refusal is rare; the book keeps the files' union only)."""
        holders = []
        for path in self._sources:  # bounded by the files given
            known = asyncssh.import_known_hosts(lower_case_hosts(read_known_hosts(path)))
            if any(_entries(known, name, port)[:2]):  # host keys or CA keys listed
                holders.append(path)
        return holders

    def _learn(self, name: str, port: int | None, key: asyncssh.SSHKey) -> None:
        assert self._learn_file is not None
        self._learnt[(name, port)] = key
        line = f"{_pattern(name, port)} {key.export_public_key('openssh').decode().strip()}\n"
        self._learn_file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        descriptor = os.open(self._learn_file, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        with os.fdopen(descriptor, "a", encoding="ascii") as stream:
            stream.write(line)


def _entries(known: Any, name: str, port: int | None) -> Any:
    """What ``known`` lists under ``[name]:port`` (``name`` alone for port None) and no other
    name: asyncssh's match result, whose third item is the keys it revokes there."""
    return known.match(_pattern(name, port), "", None)


def _pattern(name: str, port: int | None) -> str:
    """How known_hosts writes a host: ``name``, or ``[name]:port`` for a port but 22."""
    return name if port is None else f"[{name}]:{port}"


def known_hosts_note(view: SshConfigView, address: str, status: HostStatus) -> str:
    """For an unknown host key: what the host's ssh_config says about host keys that
    fleetaudit does not follow. ``UserKnownHostsFile`` and ``StrictHostKeyChecking`` are
    deliberately not honoured: one run trusts one set of keys, the files given with
    ``--known-hosts`` (and the accept-new file), whatever each host's config says, so that
    a ``Host *`` entry pointing at /dev/null with ``StrictHostKeyChecking no`` cannot
    quietly turn verification off for part of the fleet."""
    if status is not HostStatus.HOST_KEY_UNKNOWN or not view.says(
        "userknownhostsfile", "stricthostkeychecking"
    ):
        return ""
    resolved = view.resolve(address)
    if resolved is None:
        return ""
    notes = []
    if resolved.known_hosts_files:
        files = " ".join(resolved.known_hosts_files)
        notes.append(
            f" ssh_config names UserKnownHostsFile {files} for this host; fleetaudit reads "
            "only --known-hosts files: add it with --known-hosts if you trust it."
        )
    if resolved.strict_host_key_checking is not None:
        notes.append(
            f" ssh_config's StrictHostKeyChecking {resolved.strict_host_key_checking} is not "
            "followed (use --accept-new or --insecure-no-host-key-check for the run)."
        )
    return "".join(notes)


def _with_bare_name(listed: Any, bare: Any) -> Any:
    """The entries that decide a key for ``[name]:port``, as OpenSSH decides: those of
    ``[name]:port``, and, for a kind of key they do not list, the bare name's (OpenSSH's
    "checking without port identifier", a whole check of its own: a key the bare name
    revokes is not taken from it, so the host is unknown there, as in OpenSSH); the bare
    name's CAs it does not revoke; its revocations of keys beside those CAs."""
    kinds = {key.algorithm for key in listed[0]}
    revoked = set(bare[2])
    keys = [key for key in bare[0] if key.algorithm not in kinds and key not in revoked]
    cas = [ca for ca in bare[1] if ca not in revoked]
    return (
        [*listed[0], *keys],
        [*listed[1], *cas],
        [*listed[2], *(bare[2] if cas else ())],
        *listed[3:],
    )
