"""Which known_hosts entries decide a host's key, and which host key algorithms are offered,
against real OpenSSH sshd on loopback: as OpenSSH decides, so that a key of another kind, a
CA without a certificate, a HostKeyAlias or an unknown CA's certificate is judged as a key
(changed, unknown, learnt), never taken for an outage (which --allow-unreachable accepts)."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import asyncssh
import pytest

from fleetaudit.errors import TransportError
from fleetaudit.inventory.model import Host
from fleetaudit.lab.keys import generate_key, public_key_line
from fleetaudit.model.enums import HostKeyPolicy, HostStatus
from fleetaudit.transport import SshSettings, SshTransport
from tests.sshd import SshdServer, start_sshd

pytestmark = pytest.mark.sshd


def transport(
    tmp: Path,
    lines: list[str],
    policy: HostKeyPolicy = HostKeyPolicy.STRICT,
    ssh_config: str | None = None,
) -> SshTransport:
    known = tmp / "known_hosts"
    known.write_text("".join(line + "\n" for line in lines))
    config = tmp / "ssh_config"
    config.write_text(ssh_config or "")
    return SshTransport(
        SshSettings(
            known_hosts=(known,),
            host_key_policy=policy,
            accept_new_file=tmp / "state" / "known_hosts",
            connect_timeout=5,
            login_timeout=5,
            ssh_config=config,
        )
    )


def status(ssh: SshTransport, sshd: SshdServer, address: str | None = None) -> HostStatus:
    """OK when the listing command ran, else the status the connection failed with."""
    error = failure(ssh, sshd, address)
    return HostStatus.OK if error is None else error.status


def failure(
    ssh: SshTransport, sshd: SshdServer, address: str | None = None
) -> TransportError | None:
    """None when the listing command ran, else how the connection failed."""
    host = Host(
        name="t",
        address=address or sshd.host,
        port=sshd.port,
        user=sshd.user,
        key=str(sshd.client_key),
    )

    async def go() -> TransportError | None:
        try:
            async with await ssh.open(host) as session:
                await session.run("true", timeout=10)
        except TransportError as error:
            return error
        return None

    return asyncio.run(go())


def entry(pattern: str, key: asyncssh.SSHKey | str) -> str:
    return f"{pattern} {key if isinstance(key, str) else public_key_line(key)}"


def test_a_listed_key_of_another_kind_is_a_changed_key_not_an_outage(
    tmp_path: Path, sshd: SshdServer
) -> None:
    # the server has an Ed25519 key; known_hosts lists an RSA one for it
    rsa = entry(f"[{sshd.host}]:{sshd.port}", asyncssh.generate_private_key("ssh-rsa"))
    assert status(transport(tmp_path, [rsa]), sshd) is HostStatus.HOST_KEY_CHANGED
    accept_new = transport(tmp_path, [rsa], HostKeyPolicy.ACCEPT_NEW)
    assert status(accept_new, sshd) is HostStatus.HOST_KEY_CHANGED


def test_a_server_with_several_keys_shows_the_kind_known_hosts_lists(tmp_path: Path) -> None:
    rsa = asyncssh.generate_private_key("ssh-rsa")
    (tmp_path / "sshd").mkdir()
    rsa.write_private_key(tmp_path / "sshd" / "rsa_key")
    (tmp_path / "sshd" / "rsa_key").chmod(0o600)
    extra = f"HostKey {tmp_path / 'sshd' / 'rsa_key'}\n"
    for server in start_sshd(tmp_path / "sshd", extra_config=extra):
        pattern = f"[{server.host}]:{server.port}"
        for listed in (server.host_key_public, rsa):
            assert status(transport(tmp_path, [entry(pattern, listed)]), server) is HostStatus.OK
        # listed under the bare name only, the RSA key is not asked for first: the server
        # shows its Ed25519 key, which nothing lists, as OpenSSH finds (unknown)
        bare_rsa = entry(server.host, rsa)
        (tmp_path / "bare").mkdir()
        assert status(transport(tmp_path / "bare", [bare_rsa]), server) is (
            HostStatus.HOST_KEY_UNKNOWN
        )
        # nothing listed: --accept-new learns the Ed25519 key, as OpenSSH would, not RSA
        accept_new = transport(tmp_path, [], HostKeyPolicy.ACCEPT_NEW)
        assert status(accept_new, server) is HostStatus.OK
        learnt = (tmp_path / "state" / "known_hosts").read_text()
        assert learnt == f"{pattern} {server.host_key_public}\n"


def test_a_ca_listed_for_a_server_without_a_certificate_leaves_its_key_unknown(
    tmp_path: Path, sshd: SshdServer
) -> None:
    """OpenSSH: a CA judges certificates; the plain key the server shows is not known."""
    ca = entry(f"@cert-authority [{sshd.host}]:{sshd.port}", generate_key())
    assert status(transport(tmp_path, [ca]), sshd) is HostStatus.HOST_KEY_UNKNOWN
    assert status(transport(tmp_path, [ca], HostKeyPolicy.ACCEPT_NEW), sshd) is HostStatus.OK


def test_accept_new_learns_the_key_of_a_server_whose_certificate_no_listed_ca_signed(
    tmp_path: Path,
) -> None:
    (tmp_path / "sshd").mkdir()
    for server in start_sshd(tmp_path / "sshd", host_ca=generate_key()):
        learnt = tmp_path / "state" / "known_hosts"
        assert status(transport(tmp_path, [], HostKeyPolicy.ACCEPT_NEW), server) is HostStatus.OK
        assert learnt.read_text() == f"[{server.host}]:{server.port} {server.host_key_public}\n"
        assert status(transport(tmp_path, []), server) is HostStatus.OK  # learnt, then trusted


def test_a_host_key_alias_is_looked_up_without_the_port(tmp_path: Path, sshd: SshdServer) -> None:
    """OpenSSH looks HostKeyAlias up as it is: `kalias`, never `[kalias]:PORT`."""
    config = f"Host {sshd.host}\n  HostKeyAlias kalias\n"
    real = sshd.host_key_public
    assert status(transport(tmp_path, [entry("kalias", real)], ssh_config=config), sshd) is (
        HostStatus.OK
    )
    both = [entry("kalias", generate_key()), entry(f"[kalias]:{sshd.port}", real)]
    assert status(transport(tmp_path, both, ssh_config=config), sshd) is (
        HostStatus.HOST_KEY_CHANGED
    )
    learnt = tmp_path / "state" / "known_hosts"
    accept_new = transport(tmp_path, [], HostKeyPolicy.ACCEPT_NEW, ssh_config=config)
    assert status(accept_new, sshd) is HostStatus.OK
    assert learnt.read_text() == f"kalias {real}\n"


def test_host_names_match_known_hosts_without_regard_to_case(
    tmp_path: Path, sshd: SshdServer
) -> None:
    """As OpenSSH: `LocalHost` is `localhost`, so its entry's other key is a changed key,
    which --accept-new must refuse, not an unknown one it would learn."""
    wrong = entry(f"[localhost]:{sshd.port}", generate_key())
    accept_new = transport(tmp_path, [wrong], HostKeyPolicy.ACCEPT_NEW)
    assert status(accept_new, sshd, "LocalHost") is HostStatus.HOST_KEY_CHANGED
    assert not (tmp_path / "state" / "known_hosts").exists()
    right = entry(f"[LOCALHOST]:{sshd.port}", sshd.host_key_public)
    assert status(transport(tmp_path, [right]), sshd, "localhost") is HostStatus.OK


def test_no_host_key_algorithm_in_common_is_an_ssh_error_not_an_outage(
    tmp_path: Path, sshd: SshdServer
) -> None:
    """sshd closes the connection when the client offers no kind of key it has (ssh says
    "Unable to negotiate"): the host answered, so --allow-unreachable must not excuse it."""
    config = "Host *\n  HostKeyAlgorithms rsa-sha2-512\n"  # the server has an Ed25519 key
    ssh = transport(tmp_path, [sshd.known_hosts_entry], ssh_config=config)
    assert status(ssh, sshd) is HostStatus.SSH_ERROR


def test_a_key_revoked_for_the_host_and_port_is_never_learnt(
    tmp_path: Path, sshd: SshdServer
) -> None:
    revoked = entry(f"@revoked [{sshd.host}]:{sshd.port}", sshd.host_key_public)
    accept_new = transport(tmp_path, [revoked], HostKeyPolicy.ACCEPT_NEW)
    assert status(accept_new, sshd) is HostStatus.HOST_KEY_CHANGED  # never excused
    assert not (tmp_path / "state" / "known_hosts").exists()


def test_a_revoked_key_is_named_with_its_entry_fingerprint_and_files(
    tmp_path: Path, sshd: SshdServer
) -> None:
    """The message said only "HOST KEY REVOKED ... (Host key is revoked for host
    127.0.0.1)", where a changed key's names the files and the fingerprint (QA)."""
    revoked = entry(f"@revoked [{sshd.host}]:{sshd.port}", sshd.host_key_public)
    other = tmp_path / "other_known_hosts"  # mentions @revoked, revokes nothing of this host
    other.write_text(
        "# no @revoked line here applies\n"
        + entry("@revoked otherhost.example", generate_key())
        + "\n"
        # the bare name, which refuses nothing on another port (nor is named)
        + entry(f"@revoked {sshd.host}", generate_key())
        + "\n"
    )
    (tmp_path / "known_hosts").write_text(revoked + "\n")
    files = (tmp_path / "known_hosts", other)
    settings = SshSettings(
        known_hosts=files, connect_timeout=5, login_timeout=5, use_ssh_config=False
    )
    error = failure(SshTransport(settings), sshd)
    assert error is not None and error.status is HostStatus.HOST_KEY_CHANGED
    fingerprint = asyncssh.import_public_key(sshd.host_key_public).get_fingerprint("sha256")
    assert error.message == (
        f"{sshd.user}@{sshd.host}:{sshd.port}: HOST KEY REVOKED: the key the server offered "
        f"(or its certificate's CA) is marked @revoked for [{sshd.host}]:{sshd.port} in "
        f"known_hosts ({tmp_path / 'known_hosts'}); the keys revoked for it: {fingerprint}; "
        "fleetaudit refuses it under every policy. Give the host a new key and list that one."
    )


def test_a_host_on_another_port_falls_back_to_its_bare_name_as_in_openssh(
    tmp_path: Path, sshd: SshdServer
) -> None:
    """OpenSSH looks a host on port N up as `[host]:N`, then, for a kind of key that entry
    does not list, as the bare name ("checking without port identifier")."""
    bare_right = entry(sshd.host, sshd.host_key_public)
    assert status(transport(tmp_path, [bare_right]), sshd) is HostStatus.OK
    bare_other = entry(sshd.host, generate_key())
    assert status(transport(tmp_path, [bare_other]), sshd) is HostStatus.HOST_KEY_UNKNOWN
    assert status(transport(tmp_path, [bare_other], HostKeyPolicy.ACCEPT_NEW), sshd) is (
        HostStatus.OK
    )
    # the bare name lists the key and revokes it: it is not taken from there, so the host is
    # unknown, as OpenSSH says after "REVOKED HOST KEY DETECTED" (and accept-new learns it)
    revoked_bare = entry(f"@revoked {sshd.host}", sshd.host_key_public)
    (tmp_path / "revoked").mkdir()
    assert status(transport(tmp_path / "revoked", [bare_right, revoked_bare]), sshd) is (
        HostStatus.HOST_KEY_UNKNOWN
    )
    # [host]:N lists a key of this kind: the bare name's says nothing then (a directory of
    # its own: the accept-new run above recorded the server's key)
    port_other = entry(f"[{sshd.host}]:{sshd.port}", generate_key())
    (tmp_path / "fresh").mkdir()
    assert status(transport(tmp_path / "fresh", [port_other, bare_right]), sshd) is (
        HostStatus.HOST_KEY_CHANGED
    )


@pytest.mark.parametrize("written", ["127.1", "127.000.000.001", "0x7f000001"])
def test_an_ip_address_is_looked_up_in_its_shortest_form_as_in_openssh(
    tmp_path: Path, sshd: SshdServer, written: str
) -> None:
    """ssh -vvv: 'canonicalised address "127.1" => "127.0.0.1"', then [127.0.0.1]:PORT is
    looked up: a host so written is known, and another key there is a changed key."""
    right = entry(f"[127.0.0.1]:{sshd.port}", sshd.host_key_public)
    assert status(transport(tmp_path, [right]), sshd, written) is HostStatus.OK
    wrong = entry(f"[127.0.0.1]:{sshd.port}", generate_key())
    accept_new = transport(tmp_path, [wrong], HostKeyPolicy.ACCEPT_NEW)
    assert status(accept_new, sshd, written) is HostStatus.HOST_KEY_CHANGED


def test_a_scoped_link_local_address_is_looked_up_as_openssh_writes_it() -> None:
    """'canonicalised address "fe80::0001%lo" => "fe80::1%lo"', the scope by name even
    when given by number: otherwise --accept-new learnt a key known_hosts lists as changed
    under the canonical form."""
    from fleetaudit.transport.sshconfig import SshConfigView

    view = SshConfigView(False, None)
    lo = socket.if_nametoindex("lo")
    for written in ("fe80::0001%lo", f"fe80::1%{lo}", "FE80:0:0:0:0:0:0:1%lo"):
        assert view.key_name(written, {"port": 2222}) == ("fe80::1%lo", 2222)
