"""Captures of real Debian discovery daemons (wsdd, minidlna, avahi-daemon) and of
device-bound and multicast-bound sockets (socat), recorded by
tests/fixtures/make_discovery_captures.sh; see the "Discovery captures" section of
tests/fixtures/captures/README.md.

Each capture must re-parse to its stored JSON (tests/parse/test_captures.py). The set of
listeners must agree across ss, netstat and /proc/net; netstat and /proc/net do NOT print the
``%dev`` part ss shows (``0.0.0.0%fa0:68``, ``[ff02::c]%fa0:3702``), so only ss can read a
device binding, and with it the one bind scope that depends on the device (a wildcard bound
to ``lo``). Bind scopes follow the rule for multicast groups: 224.0.0.0/24 and ff02::/16 are
link-local, ff01::/16 loopback, 239.0.0.0/8 and IPv6 scopes 3 to 8 private, other groups
public; a wildcard bound to ``lo`` is loopback, bound to another device any.
"""

from __future__ import annotations

import ipaddress
from collections import Counter
from datetime import date
from typing import Any

import pytest

from fleetaudit.model import Privilege, Tool
from fleetaudit.model.names import program_name
from fleetaudit.model.socket import Socket
from fleetaudit.parse import ss
from fleetaudit.parse._ss_common import Capture
from fleetaudit.parse._ss_fast import read_fast
from fleetaudit.policy import evaluate, load_default_policy
from tests.captures import CAPTURES, listeners, sockets
from tests.factories import snapshot

NAMES = sorted(path.stem for path in CAPTURES.glob("disc-*.txt"))
SS = ("disc-ss-tuanpe-root", "disc-ss-tulnp", "disc-ss-tuanp-user")
NETSTAT = ("disc-netstat-tuanpeW-root", "disc-netstat-tulnp")
PROC = "disc-proc-net"
PRIVILEGED = ("disc-ss-tuanpe-root", "disc-ss-tulnp", *NETSTAT)
ALL = (*SS, *NETSTAT, PROC)

Listener = tuple[str, str, int | None]


def one(name: str, proto: str, address: str, port: int) -> Socket:
    [found] = [s for s in listeners(name, port, proto) if s.local_address == address]
    return found


def test_the_recorded_set_is_complete() -> None:
    assert NAMES == sorted(ALL)


# Every socket of the recording, with the bind scope the rule gives it and the device ss
# prints after `%` (None: not bound to a device). netstat and /proc/net never carry the device.
# The ports 49792, 58533 (wsdd's multicast senders, bound by their first send) and 36358
# (minidlna's SSDP notifier on the interface address) are ephemeral: another recording
# gives others.
EXPECTED: dict[Listener, tuple[str, str | None]] = {
    # wsdd: IPv4 group (no device: wsdd sets IP_MULTICAST_ALL=0 instead), IPv6 group with the
    # interface as scope id, the interface's addresses (IPv6: link-local only), HTTP 5357
    ("udp", "239.255.255.250", 3702): ("private", None),
    ("udp", "ff02::c", 3702): ("link-local", "fa0"),
    ("udp", "10.97.0.1", 3702): ("private", None),
    ("udp", "fe80::97:1", 3702): ("link-local", "fa0"),
    ("udp", "0.0.0.0", 49792): ("any", None),
    ("udp", "::", 58533): ("any", None),
    ("tcp", "10.97.0.1", 5357): ("private", None),
    ("tcp", "fe80::97:1", 5357): ("link-local", "fa0"),
    # minidlna: SSDP bound to its group, a notifier on the interface address, HTTP 8200
    ("udp", "239.255.255.250", 1900): ("private", None),
    ("udp", "10.97.0.1", 36358): ("private", None),
    ("tcp", "0.0.0.0", 8200): ("any", None),
    # avahi-daemon: mDNS on both wildcards (it joins 224.0.0.251 / ff02::fb, binds neither)
    ("udp", "0.0.0.0", 5353): ("any", None),
    ("udp", "::", 5353): ("any", None),
    # socat, device-bound: dhclient-like, a wildcard on lo, a dual-stack wildcard on fa0
    ("udp", "0.0.0.0", 68): ("any", "fa0"),
    ("tcp", "0.0.0.0", 9090): ("loopback", "lo"),
    ("tcp", "::", 9443): ("any", "fa0"),
    # socat, one group per multicast scope
    ("udp", "224.0.0.252", 5355): ("link-local", None),
    ("udp", "224.0.1.1", 123): ("public", None),
    ("udp", "ff05::1:3", 547): ("private", None),
    ("udp", "ff0e::101", 123): ("public", None),
    ("udp", "ff01::1", 9999): ("loopback", "fa0"),
}


@pytest.mark.parametrize("name", ALL)
def test_every_tool_sees_every_listener_once(name: str) -> None:
    seen = Counter((s.proto.value, s.local_address, s.local_port) for s in listeners(name))
    assert seen == Counter(EXPECTED.keys())
    # nothing but these sockets: no connection, no TIME-WAIT
    assert len(sockets(name)) == len(EXPECTED)


@pytest.mark.parametrize("name", ALL)
def test_device_binding_is_read_by_ss_only(name: str) -> None:
    for s in listeners(name):
        _, device = EXPECTED[(s.proto.value, s.local_address, s.local_port)]
        # netstat and /proc/net drop the %dev part: 0.0.0.0%fa0:68 reads as 0.0.0.0:68
        assert s.local_interface == (device if name in SS else None), (name, s.endpoint)


def test_ss_endpoints_keep_the_device() -> None:
    endpoints = {s.endpoint for s in listeners("disc-ss-tuanpe-root")}
    assert {
        "0.0.0.0%fa0:68",
        "0.0.0.0%lo:9090",
        "[::%fa0]:9443",
        "[ff02::c%fa0]:3702",
        "[fe80::97:1%fa0]:5357",
        "[ff01::1%fa0]:9999",
        "239.255.255.250:3702",
    } <= endpoints


@pytest.mark.parametrize("name", ALL)
def test_bind_scopes_follow_the_rule(name: str) -> None:
    for s in listeners(name):
        scope, _ = EXPECTED[(s.proto.value, s.local_address, s.local_port)]
        if name not in SS and (s.local_address, s.local_port) == ("0.0.0.0", 9090):
            # bound to lo, but netstat and /proc/net print a plain 0.0.0.0: the wildcard
            # rule ("any") is all these tools allow
            scope = "any"
        assert s.bind_scope.value == scope, (name, s.endpoint)


def test_multicast_groups_by_scope() -> None:
    scopes = {
        s.local_address: s.bind_scope.value
        for s in listeners("disc-ss-tuanpe-root")
        if ipaddress.ip_address(s.local_address).is_multicast
    }
    assert scopes == {
        "224.0.0.252": "link-local",  # 224.0.0.0/24
        "ff02::c": "link-local",  # ff02::/16
        "ff01::1": "loopback",  # interface-local, even though bound to fa0
        "239.255.255.250": "private",  # 239.0.0.0/8, SSDP and WS-Discovery
        "ff05::1:3": "private",  # site-local
        "224.0.1.1": "public",  # from 224.0.1.0 on
        "ff0e::101": "public",  # global
    }


def test_v6only_where_ss_tells() -> None:
    root = "disc-ss-tuanpe-root"
    # ss -e prints v6only:1 / v6only:0 on every IPv6 socket; only wildcards carry the answer
    assert one(root, "udp", "::", 5353).accepts_ipv4 is False  # avahi: [::]:5353 v6only:1
    assert one(root, "udp", "::", 58533).accepts_ipv4 is True  # wsdd sender: *:58533 v6only:0
    assert one(root, "tcp", "::", 9443).accepts_ipv4 is True  # socat ipv6only=0: *%fa0:9443
    for name in ("disc-ss-tulnp", "disc-ss-tuanp-user"):
        # without -e, ss still tells by printing `*` instead of `[::]`
        assert one(name, "udp", "::", 5353).accepts_ipv4 is False, name
        assert one(name, "udp", "::", 58533).accepts_ipv4 is True, name
        assert one(name, "tcp", "::", 9443).accepts_ipv4 is True, name
    for name in ALL:
        for s in listeners(name):
            if s.local_address != "::":
                assert s.accepts_ipv4 is None, (name, s.endpoint)
            elif name not in SS:
                assert s.accepts_ipv4 is None, (name, s.endpoint)  # netstat: ":::9443"


PROGRAMS = {
    3702: "python3",  # wsdd is a python script: comm is the interpreter's
    5357: "python3",
    49792: "python3",
    58533: "python3",
    1900: "minidlnad",
    36358: "minidlnad",
    8200: "minidlnad",
    5353: "avahi-daemon",
}


def test_owners_of_each_daemon() -> None:
    for name in PRIVILEGED:
        for s in listeners(name):
            [process] = s.processes
            assert program_name(process.name) == PROGRAMS.get(s.local_port, "socat"), name
    # netstat shows avahi's rewritten title "avahi-daemon: running [fa-disc.local]" cut to
    # "avahi-daemon:" (PID/name fits 19 characters)
    for name in NETSTAT:
        assert {p.name for s in listeners(name, 5353) for p in s.processes} == {"avahi-daemon:"}
    uids = {s.local_port: s.uid for s in listeners("disc-ss-tuanpe-root")}
    # wsdd drops to nobody before opening its sockets, minidlna and avahi to their users;
    # socat runs as root (ss -e prints no uid: for uid 0)
    assert {uids[p] for p in (3702, 5357, 49792, 58533)} == {65534}
    assert {uids[p] for p in (1900, 36358, 8200)} == {109}
    assert uids[5353] == 103
    assert {uids[p] for p in (68, 9090, 9443, 5355, 123, 547, 9999)} == {0}
    proc_uids = {(s.proto.value, s.local_address, s.local_port): s.uid for s in sockets(PROC)}
    ss_uids = {(s.proto.value, s.local_address, s.local_port): s.uid for s in sockets(SS[0])}
    assert proc_uids == ss_uids


def test_unprivileged_capture_never_claims_to_know_owners() -> None:
    assert all(not s.owner_known and not s.processes for s in sockets("disc-ss-tuanp-user"))
    assert not any(s.owner_known for s in sockets(PROC))


def test_backlog_limit_is_ss_send_q_and_unknown_elsewhere() -> None:
    backlogs = {5357: 5, 8200: 16, 9090: 5, 9443: 5}
    for name in ALL:
        for s in listeners(name, proto="tcp"):
            expected = backlogs[s.local_port] if name in SS else None
            assert (s.accept_queue, s.backlog_limit) == (0, expected), (name, s.endpoint)


def _findings(name: str, tool: Tool, groups: tuple[str, ...]) -> Counter[tuple[Any, ...]]:
    snap = snapshot("disc1", *sockets(name), tool=tool, privilege=Privilege.ROOT, groups=groups)
    findings = evaluate(snap, load_default_policy(), today=date(2026, 1, 1))
    return Counter(
        (
            f.rule_id,
            f.severity.value,
            f.socket.proto.value if f.socket else None,
            f.socket.local_address if f.socket else None,
            f.socket.local_port if f.socket else None,
            f.socket.process_names and program_name(f.socket.process_names[0]),
        )
        for f in findings
    )


@pytest.mark.parametrize("groups", [(), ("web",), ("db",)])
def test_default_policy_judges_ss_and_netstat_alike(groups: tuple[str, ...]) -> None:
    # Compared by what identifies the problem, not by the message or fingerprint: those carry
    # ss's %dev (and netstat's cut "avahi-daemon:"), which netstat cannot print.
    from_ss = _findings("disc-ss-tuanpe-root", Tool.SS, groups)
    from_netstat = _findings("disc-netstat-tuanpeW-root", Tool.NETSTAT, groups)
    assert from_ss == from_netstat
    if groups:
        # closed-world hosts: every socket is an unexpected listener, in both listings
        assert sum(from_ss.values()) == len(EXPECTED)
    else:
        assert not from_ss


@pytest.mark.parametrize("name", PRIVILEGED)
def test_no_finding_calls_a_narrow_multicast_group_public(name: str) -> None:
    tool = Tool.SS if name in SS else Tool.NETSTAT
    snap = snapshot("disc1", *sockets(name), tool=tool, groups=("web",))
    findings = evaluate(snap, load_default_policy(), today=date(2026, 1, 1))
    public = set()
    for f in findings:
        assert f.socket is not None
        if "public" in f.message:
            public.add(f.socket.local_address)
    # only the two groups of global scope, recorded for that purpose; no daemon's group
    assert public == {"224.0.1.1", "ff0e::101"}


@pytest.mark.parametrize("name", SS)
def test_ss_fast_path_agrees_with_exact_reader(name: str) -> None:
    text = (CAPTURES / f"{name}.txt").read_text()
    capture = Capture(text, not name.endswith("-user"))
    for line in text.splitlines()[1:]:
        # every line, %dev and multicast ones included, is taken by the fast path
        fast = read_fast(line, 1, capture)
        assert fast is not None, line
        assert fast == ss._parse_line(line, line.split(), 1, capture), line
