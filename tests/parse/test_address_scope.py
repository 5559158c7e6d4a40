"""Bind-scope classification: who can reach a socket bound to this local address."""

from __future__ import annotations

import pytest

from fleetaudit.model.address import classify_scope, name_family
from fleetaudit.model.enums import BindScope
from fleetaudit.model.socket import Socket
from fleetaudit.parse import parse_capture, ss

LOOPBACK, LINK_LOCAL, PRIVATE, PUBLIC, ANY = (
    BindScope.LOOPBACK,
    BindScope.LINK_LOCAL,
    BindScope.PRIVATE,
    BindScope.PUBLIC,
    BindScope.ANY,
)


@pytest.mark.parametrize(
    ("address", "interface", "scope"),
    [
        ("0.0.0.0", None, ANY),
        ("::", None, ANY),
        ("0.0.0.0", "eth0", ANY),  # every address of one device: still not one address
        ("0.0.0.0", "lo", LOOPBACK),
        ("::", "lo", LOOPBACK),
        ("10.1.2.3", "lo", LOOPBACK),
        ("127.0.0.53", None, LOOPBACK),
        ("::1", None, LOOPBACK),
        ("::ffff:127.0.0.1", None, LOOPBACK),
        ("169.254.1.1", None, LINK_LOCAL),
        ("fe80::1", "eth0", LINK_LOCAL),
        ("10.0.0.1", None, PRIVATE),
        ("192.168.1.255", None, PRIVATE),  # a subnet broadcast address (nmbd binds these)
        ("100.64.0.1", None, PRIVATE),
        ("fd00::1", None, PRIVATE),
        ("::ffff:10.0.0.1", None, PRIVATE),
        ("8.8.8.8", None, PUBLIC),
        ("2001:4860::1", None, PUBLIC),
        ("::ffff:8.8.8.8", None, PUBLIC),
        ("db1.example.com", None, PUBLIC),  # not an address: the cautious answer
        ("localhost", None, LOOPBACK),  # ss -r / netstat without -n name 127.0.0.1 so
        ("ip6-localhost", None, LOOPBACK),  # ... and ::1 (Debian's /etc/hosts)
        ("localhost.example.com", None, PUBLIC),  # only the loopback names themselves
    ],
)
def test_unicast_and_wildcards(address: str, interface: str | None, scope: BindScope) -> None:
    assert classify_scope(address, interface) is scope


@pytest.mark.parametrize(
    ("address", "scope"),
    [
        # IANA's registries, whatever the Python release: 3.11.7's is_private called all
        # of 2001::/23 private, AS112's reachable 2001:4:112::/48 too (QA)
        ("2001:4:112::1", PUBLIC),
        ("2001:20::1", PUBLIC),  # ORCHIDv2
        ("2001::1", PUBLIC),  # Teredo: IANA marks it neither way, so the cautious answer
        ("2002:c000:204::1", PUBLIC),  # 6to4, likewise
        ("2001:2::1", PRIVATE),  # benchmarking
        ("2001:db8::1", PRIVATE),
        ("3fff::1", PRIVATE),  # documentation (RFC 9637)
        ("192.0.0.9", PUBLIC),  # Port Control Protocol anycast, inside 192.0.0.0/24
        ("192.0.0.1", PRIVATE),
        ("192.31.196.1", PUBLIC),  # AS112-v4
        ("198.18.0.1", PRIVATE),
        ("240.0.0.1", PRIVATE),
        ("::ffff:203.0.113.9", PRIVATE),
    ],
)
def test_private_is_what_iana_marks_not_globally_reachable(address: str, scope: BindScope) -> None:
    assert classify_scope(address) is scope


@pytest.mark.parametrize(
    ("group", "scope"),
    [
        ("224.0.0.251", LINK_LOCAL),  # mDNS
        ("224.0.0.252", LINK_LOCAL),  # LLMNR
        ("224.0.0.1", LINK_LOCAL),
        ("239.255.255.250", PRIVATE),  # SSDP, WS-Discovery: administratively scoped
        ("239.192.0.1", PRIVATE),
        ("224.0.1.1", PUBLIC),  # NTP: internetwork control, routed
        ("232.1.1.1", PUBLIC),  # source-specific multicast
        ("233.252.0.1", PUBLIC),
        ("::ffff:224.0.0.251", LINK_LOCAL),
        ("::ffff:239.255.255.250", PRIVATE),
        ("ff01::1", LOOPBACK),  # interface-local
        ("ff02::fb", LINK_LOCAL),  # mDNS
        ("ff02::c", LINK_LOCAL),  # WS-Discovery
        ("ff12::1:3", LINK_LOCAL),  # transient group, link scope: the flags do not matter
        ("ff03::1", PRIVATE),  # realm-local
        ("ff05::c", PRIVATE),  # site-local
        ("ff08::1", PRIVATE),  # organisation-local
        ("ff09::1", PUBLIC),  # beyond the organisation
        ("ff0e::101", PUBLIC),  # global (NTP)
        ("ff00::1", PUBLIC),  # reserved scopes: the cautious answer
        ("ff0f::1", PUBLIC),
    ],
)
def test_multicast_groups_by_their_scope(group: str, scope: BindScope) -> None:
    assert classify_scope(group) is scope


def test_listing_of_sockets_bound_to_groups_and_devices() -> None:
    # ss -tuanpe of wsdd- and dhclient-like sockets (the shapes recorded from this
    # machine's iproute2 6.1): device-bound wildcards and multicast groups.
    text = (
        "Netid State  Recv-Q Send-Q Local Address:Port Peer Address:PortProcess\n"
        'udp   UNCONN 0      0         0.0.0.0%d0:68        0.0.0.0:*    users:(("python",'
        "pid=20818,fd=3)) ino:7541765 sk:2adb5 <->\n"
        "udp   UNCONN 0      0        224.0.0.251:5353      0.0.0.0:*\n"
        "udp   UNCONN 0      0   239.255.255.250%d0:3702    0.0.0.0:*\n"
        "udp   UNCONN 0      0         [ff02::c]%d0:3702       [::]:* v6only:1\n"
        "tcp   LISTEN 0      5         0.0.0.0%lo:8080      0.0.0.0:*\n"
        "tcp   LISTEN 0      5               *%d0:8081            *:* v6only:0\n"
    )
    result = ss.parse(text)
    assert result.errors == ()
    read = [
        (s.local_address, s.local_interface, s.bind_scope.value, s.accepts_ipv4)
        for s in map(Socket.from_raw, result.sockets)
    ]
    assert read == [
        ("0.0.0.0", "d0", "any", None),
        ("224.0.0.251", None, "link-local", None),
        ("239.255.255.250", "d0", "private", None),
        ("ff02::c", "d0", "link-local", None),  # only a wildcard can accept IPv4
        ("0.0.0.0", "lo", "loopback", None),
        ("::", "d0", "any", True),
    ]


@pytest.mark.parametrize(
    ("name", "peer", "family"),
    [
        ("ip6-localhost", "*", "ipv6"),  # the name says it
        ("localhost6", None, "ipv6"),
        ("localhost4", "::", "ipv4"),
        ("localhost", "::", "ipv6"),  # both families: the peer tells
        ("localhost", "0.0.0.0", "ipv4"),
        ("db1.example.com", "::", "ipv6"),
        ("db1.example.com", None, "ipv4"),
    ],
)
def test_a_host_name_takes_its_family_from_the_name_or_the_peer(
    name: str, peer: str | None, family: str
) -> None:
    assert name_family(name, peer).value == family


def test_ss_r_names_read_with_their_family_and_pass_loopback_cidrs() -> None:
    text = (
        "Netid State  Recv-Q Send-Q Local Address:Port  Peer Address:PortProcess\n"
        'tcp LISTEN 0 128 ip6-localhost:postgresql [::]:* users:(("postgres",pid=2,fd=7))\n'
        'tcp LISTEN 0 128 localhost:mysql 0.0.0.0:* users:(("mysqld",pid=3,fd=7))\n'
    )
    _, result = parse_capture(text, privileged=True)
    read = [(s.local_address, s.family.value, s.local_port) for s in result.sockets]
    assert read == [("ip6-localhost", "ipv6", 5432), ("localhost", "ipv4", 3306)]
