"""The audit's own SSH connection: a whole listing holds it, so one without it was cut.

A listing cut between two lines by a tool that still exits 0 parses without a single bad
line; only the connection the host's sshd names in ``$SSH_CONNECTION`` tells it is not
whole (tests/e2e/test_hostile_listing.py runs it against a real sshd)."""

import dataclasses

import pytest

from fleetaudit.collect.reply import parse_reply
from fleetaudit.model import Severity
from fleetaudit.policy import evaluate
from fleetaudit.snapshot import build_snapshot
from fleetaudit.transport.ssh_session import _software
from tests.factories import captured
from tests.policy.builders import policy

COVERAGE = policy(
    """
    version: 1
    rules:
      - {id: coverage, kind: coverage, description: blind spots hide findings}
    """
)
HEADER = "@@fleetaudit 1\n@@uid 0\n{connection}@@tool ss\n@@privilege root\n@@output\n"
LISTING = (
    "Netid State  Recv-Q Send-Q Local Address:Port Peer Address:Port Process\n"
    "tcp   LISTEN 0      128  0.0.0.0:22   0.0.0.0:* "
    'users:(("sshd",pid=600,fd=3))\n'
    "tcp   LISTEN 0      80   0.0.0.0:3306 0.0.0.0:* "
    'users:(("mysqld",pid=700,fd=3))\n'
)
OWN = (
    'tcp   ESTAB  0      0          10.0.0.5:22      10.9.0.1:51234 users:(("sshd",pid=601,fd=4))\n'
)
CONNECTION = "@@ssh-connection 10.9.0.1 51234 10.0.0.5 22\n"


def _snapshot(listing: str, connection: str = CONNECTION, software: str | None = "OpenSSH_9.2p1"):
    reply = parse_reply(HEADER.format(connection=connection) + listing)
    capture = dataclasses.replace(
        captured(reply, "db1"), host_key_checked=True, server_software=software
    )
    return build_snapshot(capture)


def test_the_reply_names_the_server_and_client_ports() -> None:
    reply = parse_reply(HEADER.format(connection=CONNECTION) + LISTING)
    assert reply.ssh_connection == (22, 51234)
    ipv6 = parse_reply(HEADER.format(connection="@@ssh-connection ::1 40000 ::1 2222\n"))
    assert ipv6.ssh_connection == (2222, 40000)


@pytest.mark.parametrize(
    "value",
    [
        "",
        "10.9.0.1 51234 10.0.0.5",
        "a b c d",
        "1 0 2 22",
        "1 70000 2 22",
        "1 2 3 4 5",
        "UNKNOWN 65535 UNKNOWN 65535",  # sshd -i over a pipe (inetd, a ProxyCommand)
    ],
)
def test_a_value_of_another_shape_is_ignored(value: str) -> None:
    reply = parse_reply(HEADER.format(connection=f"@@ssh-connection {value}\n") + LISTING)
    assert reply.ssh_connection is None


def test_a_listing_that_holds_the_audits_connection_is_whole() -> None:
    host = _snapshot(LISTING + OWN)
    assert host.audit_connection == (22, 51234)
    assert evaluate(host, COVERAGE) == []


def test_a_listing_without_it_is_a_high_coverage_finding() -> None:
    """The cut lost mysqld's connections and the audit's own; its listener survived."""
    host = _snapshot(LISTING)
    [finding] = evaluate(host, COVERAGE)
    assert (finding.severity, finding.socket) == (Severity.HIGH, None)
    assert finding.message.startswith(
        "db1: its listing lacks this audit's own SSH connection (port 22 from port 51234"
    )


def test_the_connection_must_be_tcp_between_both_ports() -> None:
    for other in (
        OWN.replace("51234", "51235"),  # another client's connection to sshd
        OWN.replace("10.0.0.5:22 ", "10.0.0.5:23 "),
        OWN.replace("tcp ", "udp "),
    ):
        assert len(evaluate(_snapshot(LISTING + other), COVERAGE)) == 1, other


@pytest.mark.parametrize(
    ("connection", "software", "over_ssh"),
    [
        ("", "OpenSSH_9.2p1", True),  # the server did not say
        (CONNECTION, "Tailscale", True),  # its connections live in user space
        (CONNECTION, None, True),
        (CONNECTION, "OpenSSH_9.2p1", False),  # a local host run from an SSH login
    ],
)
def test_no_check_where_the_listing_need_not_hold_it(
    connection: str, software: str | None, over_ssh: bool
) -> None:
    host = _snapshot(LISTING, connection, software)
    if not over_ssh:
        capture = captured(parse_reply(HEADER.format(connection=connection) + LISTING), "db1")
        host = build_snapshot(dataclasses.replace(capture, server_software=software))
    assert host.audit_connection is None
    assert evaluate(host, COVERAGE) == []


def test_dropbear_holds_its_connections_as_sockets_too() -> None:
    assert _snapshot(LISTING, software="dropbear_2022.83").audit_connection == (22, 51234)


def test_a_listing_of_connections_only_is_told_partial_not_cut() -> None:
    """One finding, the one naming the cause (ss -tunp lists no listener at all)."""
    established = OWN.replace("10.0.0.5:22 ", "10.0.0.5:3306 ")
    [finding] = evaluate(_snapshot(LISTING.split("\n")[0] + "\n" + established), COVERAGE)
    assert "not one listening" in finding.message


@pytest.mark.parametrize(
    ("banner", "software"),
    [
        ("SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3", "OpenSSH_9.2p1"),
        ("SSH-2.0-dropbear_2022.83", "dropbear_2022.83"),
        ("SSH-1.99-OpenSSH_3.9p1", "OpenSSH_3.9p1"),
        ("SSH-2.0-", None),
        ("garbage", None),
        (None, None),
    ],
)
def test_the_servers_software_is_read_from_its_banner(banner: str | None, software: str) -> None:
    assert _software(banner) == software
