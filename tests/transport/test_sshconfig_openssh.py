"""ssh_config read as OpenSSH reads it: broken files refused, a jump host's own IdentityFile,
ProxyJump chains, ProxyCommand against ProxyJump, the address named in host-key errors.

Real sshd processes on loopback; ``ssh -G`` (when installed) says what OpenSSH makes of the
same files.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import asyncssh
import pytest

from fleetaudit.errors import InputError, TransportError
from fleetaudit.inventory.model import Host
from fleetaudit.model.enums import HostStatus
from fleetaudit.transport import SshTransport
from fleetaudit.transport.jump import single_jump
from fleetaudit.transport.sshconfig import SshConfigView
from tests.sshd import SshdServer, start_sshd
from tests.transport.test_ssh_config_and_jump import run_all, settings

pytestmark = pytest.mark.sshd


def openssh_refuses(config: Path) -> bool | None:
    """Whether ``ssh -G`` refuses ``config`` (None without an ssh client)."""
    if shutil.which("ssh") is None:
        return None
    done = subprocess.run(
        ["ssh", "-G", "-F", str(config), "somehost"],
        capture_output=True,
        text=True,
        timeout=10,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    return done.returncode != 0


@pytest.mark.parametrize(
    ("text", "line", "reason"),
    [
        ("Host a\n  Port 22\nHost b\nMatch\n", 4, "Missing Match value"),
        # a block no host of the run matches: OpenSSH refuses the file all the same
        ("Host elsewhere\n  Port notaport\n", 2, "Invalid Port integer value: notaport"),
        ("Host a\n  FooBarOption yes\n", 2, "Bad configuration option: FooBarOption"),
        ("Match host a exec\n", 1, "Missing exec match pattern"),
        # QA: a port that is no number was dropped, and the host went to the jump host's
        # port 22, which ssh never does
        ("Host elsewhere\n  ProxyJump root@127.0.0.1:22x\n", 2, 'Invalid ProxyJump "root@'),
        ("Host a\n  ProxyJump b:0\n", 2, 'Invalid ProxyJump "b:0": port 0 is outside 1-65535'),
        ("Host a\n  ProxyJump ok:22,@b\n", 2, 'Invalid ProxyJump "ok:22,@b": empty user'),
        ("Host a\n  ProxyJump b:\u0662\u0662\n", 2, 'Invalid ProxyJump "b:\u0662\u0662": bad port'),
        ("Host a\n  ProxyJump ::1\n", 2, 'Invalid ProxyJump "::1": an IPv6 address needs'),
    ],
)
def test_a_broken_ssh_config_is_an_input_error_naming_file_and_line(
    tmp_path: Path, text: str, line: int, reason: str
) -> None:
    config = tmp_path / "ssh_config"
    config.write_text(text)
    with pytest.raises(InputError) as raised:
        SshConfigView(True, config)
    assert str(raised.value).startswith(f"{config}:{line}: ssh_config: {reason}")
    assert openssh_refuses(config) in (True, None)


@pytest.mark.parametrize(
    ("hop", "user", "port"),
    [
        ("127.0.0.1:", None, None),  # an empty port is ssh's default
        ("ssh://root@127.0.0.1:", "root", None),
        ("127.0.0.1:+22", None, 22),
        ("ssh://ro%6ft@127.0.0.1:2200", "root", 2200),  # a URI's user is percent-decoded
        ("ssh://root;fingerprint=x@127.0.0.1:2200", "root", 2200),  # parameters dropped
    ],
)
def test_proxyjump_hops_ssh_accepts_are_read_as_ssh_reads_them(
    tmp_path: Path, hop: str, user: str | None, port: int | None
) -> None:
    """QA compared each with `ssh -G`: fleetaudit refused the first three, and logged in
    as `ro%6ft` and `root;fingerprint=x`."""
    config = tmp_path / "ssh_config"
    config.write_text(f"Host target\n  ProxyJump {hop}\n")
    SshConfigView(True, config)
    assert openssh_refuses(config) in (False, None)
    spec = single_jump(hop, "target:22")
    assert (spec.user, spec.address, spec.port) == (user, "127.0.0.1", port)


def test_a_proxyjump_written_as_an_ssh_uri_is_read_as_openssh_reads_it(tmp_path: Path) -> None:
    """``ssh://root@host:2200`` is user root on port 2200 to OpenSSH; it was read as the
    user ``ssh://root`` (QA: the login failed as auth_failed)."""
    config = tmp_path / "ssh_config"
    config.write_text("Host target\n  ProxyJump ssh://root@127.0.0.1:2200\n")
    SshConfigView(True, config)
    assert openssh_refuses(config) in (False, None)
    spec = single_jump("ssh://root@127.0.0.1:2200", "target:22")
    assert (spec.user, spec.address, spec.port) == ("root", "127.0.0.1", 2200)


def test_a_broken_included_file_is_named(tmp_path: Path) -> None:
    included = tmp_path / "extra.conf"
    included.write_text("\n\nHost x\n  Compression maybe\n")
    config = tmp_path / "ssh_config"
    config.write_text(f"Include {included}\n")
    with pytest.raises(InputError, match=rf"^{included}:4: ssh_config: Invalid Compression"):
        SshConfigView(True, config)


def test_options_openssh_knows_or_ignores_are_accepted_and_match_exec_never_runs(
    tmp_path: Path,
) -> None:
    marker = tmp_path / "ran"
    config = tmp_path / "ssh_config"
    config.write_text(
        "IgnoreUnknown UseKeychain,Foo*\nUseKeychain yes\nFooBar 1\n"
        "Host *\n  ControlMaster auto\n  StrictHostKeyChecking accept-new\n"
        f'Match exec "touch {marker}" host nothing\n  Port 2200\n'
    )
    SshConfigView(True, config)
    assert not marker.exists()
    assert openssh_refuses(config) in (False, None)


def test_a_broken_default_config_is_refused_and_a_missing_one_is_fine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    SshConfigView(True, None)  # no ~/.ssh/config: fine, as with OpenSSH
    (tmp_path / ".ssh").mkdir()
    (tmp_path / ".ssh" / "config").write_text("Port notaport\n")
    with pytest.raises(InputError, match=r"\.ssh/config:1: ssh_config: Invalid Port"):
        SshConfigView(True, None)
    SshConfigView(False, None)  # not read at all


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[tuple[SshdServer, SshdServer]]:
    """A jump host that logs accepted keys and a target, each accepting only its own key."""
    with ExitStack() as stack:
        servers = []
        for name in ("jump", "target"):
            directory = tmp_path / name
            directory.mkdir()
            generator = start_sshd(directory, extra_config="LogLevel VERBOSE\n")
            servers.append(next(generator))
            stack.callback(generator.close)
        yield servers[0], servers[1]


def _fingerprint(key: Path) -> str:
    return str(asyncssh.read_private_key(key).get_fingerprint("sha256"))


def test_a_jump_host_is_offered_its_own_identity_file(
    tmp_path: Path, pair: tuple[SshdServer, SshdServer]
) -> None:
    jump, target = pair
    config = tmp_path / "ssh_config"
    config.write_text(f"Host 127.0.0.1\n  IdentityFile {jump.client_key}\n")
    transport = SshTransport(
        settings(tmp_path, [jump, target], use_ssh_config=True, ssh_config=config)
    )
    host = Host(name="t", address="127.0.0.1", port=target.port, user=target.user,
                key=str(target.client_key), jump=f"127.0.0.1:{jump.port}")  # fmt: skip
    assert run_all(transport, [host]) == ["ok\n"]
    log = (tmp_path / "jump" / "sshd.log").read_text()
    assert f"Accepted publickey for {jump.user}" in log
    assert _fingerprint(jump.client_key) in log


def test_jump_identities_order(tmp_path: Path) -> None:
    from fleetaudit.transport.jump import jump_identities

    own, target = tmp_path / "own", tmp_path / "target"
    own.write_text("x")
    missing = str(tmp_path / "missing")
    assert jump_identities([missing, str(own)], str(target)) == [str(own), str(target)]
    assert jump_identities([str(target)], str(target)) == [str(target)]
    assert jump_identities([str(own)], None) == []


def test_a_proxyjump_chain_in_ssh_config_is_refused_clearly(
    tmp_path: Path, sshd: SshdServer
) -> None:
    config = tmp_path / "ssh_config"
    config.write_text("Host chained\n  HostName 127.0.0.1\n  ProxyJump jumpbox,jumpbox2\n")
    transport = SshTransport(settings(tmp_path, [sshd], use_ssh_config=True, ssh_config=config))
    [result] = run_all(transport, [Host(name="c", address="chained", port=sshd.port)])
    assert isinstance(result, TransportError) and result.status is HostStatus.SSH_ERROR
    assert result.message == (
        f"chained:{sshd.port}: ssh_config gives ProxyJump jumpbox,jumpbox2: only one jump "
        "host is supported (no ProxyJump chains)"
    )


def test_a_jump_host_with_a_jump_host_of_its_own_is_refused(
    tmp_path: Path, sshd: SshdServer
) -> None:
    config = tmp_path / "ssh_config"
    config.write_text(
        f"Host behind\n  HostName 127.0.0.1\n  ProxyJump bastion\n"
        f"Host bastion\n  HostName 127.0.0.1\n  Port {sshd.port}\n  ProxyJump outer\n"
    )
    transport = SshTransport(settings(tmp_path, [sshd], use_ssh_config=True, ssh_config=config))
    [result] = run_all(transport, [Host(name="b", address="behind", port=sshd.port)])
    assert isinstance(result, TransportError) and result.status is HostStatus.SSH_ERROR
    assert "gives it a jump host of its own (outer): only one jump host" in result.message
    # QA: "jump host bastion:22: jump host bastion:22: ssh_config gives it ...": named once
    assert result.message.startswith(f"jump host bastion:{sshd.port}: ssh_config gives it")


def _relay(tmp_path: Path) -> Path:
    """A ProxyCommand that relays stdin/stdout to HOST PORT and leaves a marker."""
    script = tmp_path / "relay.py"
    script.write_text(
        "import socket, sys, threading\n"
        f"open({str(tmp_path / 'relayed')!r}, 'w').close()\n"
        "s = socket.create_connection((sys.argv[1], int(sys.argv[2])))\n"
        "def up():\n"
        "    while data := sys.stdin.buffer.raw.read(65536):\n"
        "        s.sendall(data)\n"
        "    s.shutdown(socket.SHUT_WR)\n"
        "threading.Thread(target=up, daemon=True).start()\n"
        "while data := s.recv(65536):\n"
        "    sys.stdout.buffer.write(data); sys.stdout.buffer.flush()\n"
    )
    return script


def test_a_proxycommand_given_before_a_proxyjump_wins_as_in_openssh(
    tmp_path: Path, sshd: SshdServer, refused_port: int
) -> None:
    dead = refused_port
    config = tmp_path / "ssh_config"
    config.write_text(
        f"Host viaproxy\n  HostName 127.0.0.1\n  Port {sshd.port}\n"
        f"  ProxyCommand {sys.executable} {_relay(tmp_path)} %h %p\n"
        f"Host *\n  ProxyJump 127.0.0.1:{dead}\n  User {sshd.user}\n"
        f"  IdentityFile {sshd.client_key}\n"
    )
    transport = SshTransport(settings(tmp_path, [sshd], use_ssh_config=True, ssh_config=config))
    assert run_all(transport, [Host(name="p", address="viaproxy")]) == ["ok\n"]
    assert (tmp_path / "relayed").exists()
    assert transport.jump_connections_opened == 0


def _failure_through_alias(tmp_path: Path, sshd: SshdServer, option: str) -> TransportError:
    """The error of a login to ``sshd`` through an ssh_config alias that adds ``option``."""
    config = tmp_path / "ssh_config"
    config.write_text(
        f"Host alias\n  HostName 127.0.0.1\n  Port {sshd.port}\n  User {sshd.user}\n"
        f"  IdentityFile {sshd.client_key}\n  {option}\n"
    )
    transport = SshTransport(settings(tmp_path, [sshd], use_ssh_config=True, ssh_config=config))
    [result] = run_all(transport, [Host(name="a", address="alias")])
    assert isinstance(result, TransportError), result
    return result


def test_a_proxycommand_whose_program_is_missing_is_not_a_key_problem(
    tmp_path: Path, sshd: SshdServer
) -> None:
    """`ProxyCommand nc %h %p` where nc is not installed read "auth_failed: cannot read
    nc", as if a private key were missing."""
    result = _failure_through_alias(tmp_path, sshd, "ProxyCommand fa-no-such-program %h %p")
    assert result.status is HostStatus.SSH_ERROR, result.message
    assert "cannot run fa-no-such-program (ssh_config's ProxyCommand)" in result.message


@pytest.mark.parametrize("kind", ["missing", "not executable"])
def test_a_proxycommand_program_named_by_its_path_is_not_a_key_problem(
    tmp_path: Path, sshd: SshdServer, kind: str
) -> None:
    """Named by an absolute path, the program read "auth_failed: cannot read ..." (QA)."""
    program = tmp_path / "proxy-program"
    if kind == "not executable":
        program.write_text("#!/bin/sh\n")
    result = _failure_through_alias(tmp_path, sshd, f"ProxyCommand {program} %h %p")
    assert result.status is HostStatus.SSH_ERROR, result.message
    assert f"cannot run {program} (ssh_config's ProxyCommand)" in result.message


def test_a_proxycommand_that_hangs_is_named_in_the_timeout(
    tmp_path: Path, sshd: SshdServer
) -> None:
    """It read "accepted the TCP connection but sent no SSH banner", but no TCP connection
    was made: the local command hung (QA)."""
    config = tmp_path / "ssh_config"
    config.write_text("Host alias\n  HostName 127.0.0.1\n  ProxyCommand sleep 20\n")
    transport = SshTransport(
        settings(tmp_path, [sshd], use_ssh_config=True, ssh_config=config, connect_timeout=1)
    )
    [result] = run_all(transport, [Host(name="a", address="alias")])
    assert isinstance(result, TransportError) and result.status is HostStatus.TIMEOUT
    assert "no SSH banner came through ssh_config's ProxyCommand (sleep)" in result.message
    assert "TCP" not in result.message


def test_a_missing_key_named_without_a_directory_is_still_a_key_problem(
    tmp_path: Path, sshd: SshdServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    transport = SshTransport(settings(tmp_path, [sshd]))
    host = Host(name="k", address="127.0.0.1", port=sshd.port, user=sshd.user, key="id_gone")
    [result] = run_all(transport, [host])
    assert isinstance(result, TransportError)
    assert result.status is HostStatus.AUTH_FAILED, result.message
    assert result.message.endswith("cannot read id_gone: No such file or directory")


def test_a_host_key_error_names_the_address_and_port_ssh_config_gives(
    tmp_path: Path, sshd: SshdServer
) -> None:
    config = tmp_path / "ssh_config"
    config.write_text(
        f"Host alias1\n  HostName 127.0.0.1\n  Port {sshd.port}\n  User {sshd.user}\n"
        f"  IdentityFile {sshd.client_key}\n  UserKnownHostsFile {tmp_path / 'theirs'}\n"
        "  StrictHostKeyChecking no\n"
    )
    transport = SshTransport(settings(tmp_path, [], use_ssh_config=True, ssh_config=config))
    [result] = run_all(transport, [Host(name="a", address="alias1")])
    assert isinstance(result, TransportError)
    assert result.status is HostStatus.HOST_KEY_UNKNOWN
    assert result.message.startswith(
        f"alias1:{sshd.port} ({sshd.user}@127.0.0.1:{sshd.port} by ssh_config): host key is not in "
        "known_hosts"
    ), result.message
    # the entry to add: OpenSSH looks the key up by HostName and port, not by the alias
    assert f"known_hosts ({tmp_path / 'known_hosts'}) as [127.0.0.1]:{sshd.port};" in (
        result.message
    )
    assert (
        f"ssh_config names UserKnownHostsFile {tmp_path / 'theirs'} for this host; "
        "fleetaudit reads only --known-hosts files" in result.message
    )
    assert "StrictHostKeyChecking no is not followed" in result.message


def test_jump_none_connects_directly_despite_a_host_star_proxyjump(
    tmp_path: Path, sshd: SshdServer, refused_port: int
) -> None:
    dead = refused_port
    config = tmp_path / "ssh_config"
    config.write_text(
        f"Host byconfig\n  HostName 127.0.0.1\n  ProxyJump none\n"
        f"Host *\n  ProxyJump 127.0.0.1:{dead}\n  User {sshd.user}\n"
        f"  IdentityFile {sshd.client_key}\n"
    )
    transport = SshTransport(settings(tmp_path, [sshd], use_ssh_config=True, ssh_config=config))
    hosts = [
        Host(name="i", address="127.0.0.1", port=sshd.port, jump="none"),  # the inventory's
        Host(name="c", address="byconfig", port=sshd.port),  # ssh_config's
    ]
    assert run_all(transport, hosts) == ["ok\n", "ok\n"]
    assert transport.jump_connections_opened == 0


def test_a_host_key_error_names_the_host_key_alias_it_looked_up(
    tmp_path: Path, sshd: SshdServer
) -> None:
    result = _failure_through_alias(tmp_path, sshd, "HostKeyAlias myalias")
    assert result.status is HostStatus.HOST_KEY_UNKNOWN
    assert ") as myalias; verify it and add it" in result.message, result.message


@pytest.mark.parametrize(
    ("command", "refused"),
    [("nc -z %h 22", True), ("test %p = 22", True), ("echo 100%% sure", True), ("true", False)],
)
def test_a_match_exec_with_a_token_is_refused_with_its_line(
    tmp_path: Path, command: str, refused: bool
) -> None:
    """asyncssh runs a Match exec command with its % tokens unexpanded: `nc -z %h 22`
    would decide the same, wrongly, for every host, and `%%` stays two (QA)."""
    config = tmp_path / "ssh_config"
    config.write_text(f'Host a\n  Port 2222\nMatch exec "{command}"\n  User audit\n')
    if not refused:
        SshConfigView(True, config)
        return
    with pytest.raises(InputError) as caught:
        SshConfigView(True, config)
    assert caught.value.line == 3
    assert "holds a %, which fleetaudit's SSH library (asyncssh) leaves as written" in str(
        caught.value
    )


def test_a_proxycommand_that_ends_at_once_is_named(tmp_path: Path, sshd: SshdServer) -> None:
    """It read "connection lost during connect: Connection lost", naming nothing (QA)."""
    result = _failure_through_alias(tmp_path, sshd, "ProxyCommand /bin/true")
    assert result.status is HostStatus.CONNECTION_LOST, result.message
    assert "through ssh_config's ProxyCommand (/bin/true): the command ended" in result.message
