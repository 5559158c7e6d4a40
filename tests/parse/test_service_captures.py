"""Captures of real Debian services (nginx, redis, MariaDB, dnsmasq, unbound, chrony,
memcached, OpenSSH), recorded by tests/fixtures/make_service_captures.sh; see the "Service
captures" section of tests/fixtures/captures/README.md.

The parsers were not written against these programs: each capture must re-parse to its
stored JSON (tests/parse/test_captures.py), and the facts a user relies on must read the
same in every tool's listing where the tool carries them.
"""

from __future__ import annotations

from collections import Counter

import pytest

from fleetaudit.model.socket import Socket
from fleetaudit.parse import ss
from fleetaudit.parse._ss_common import Capture
from fleetaudit.parse._ss_fast import read_fast
from tests.captures import CAPTURES, listeners, sockets

NAMES = sorted(path.stem for path in CAPTURES.glob("svc-*.txt"))
SS = ("svc-ss-tuanpe-root", "svc-ss-tulnp", "svc-ss-tuanp-user")
NETSTAT = ("svc-netstat-tuanpeW-root", "svc-netstat-tulnp")
PROC = "svc-proc-net"
PRIVILEGED = ("svc-ss-tuanpe-root", "svc-ss-tulnp", *NETSTAT)
ALL = (*SS, *NETSTAT, PROC)

Listener = tuple[str, str, int | None]


def addresses(socks: list[Socket]) -> set[str]:
    return {s.local_address for s in socks}


def test_the_recorded_set_is_complete() -> None:
    assert NAMES == sorted(ALL)


# Every listener of every service, as (proto, address, port): 21 TCP, 13 UDP.
EXPECTED_LISTENERS: Counter[Listener] = Counter(
    {
        # nginx: wildcards (IPv6 one v6only), a dual-stack wildcard, the private addresses
        ("tcp", "0.0.0.0", 80): 1,
        ("tcp", "::", 80): 1,
        ("tcp", "::", 8000): 1,
        ("tcp", "10.98.0.1", 8080): 1,
        ("tcp", "fd00:98::1", 8080): 1,
        # redis, mariadb, memcached, sshd
        ("tcp", "127.0.0.1", 6379): 1,
        ("tcp", "::1", 6379): 1,
        ("tcp", "127.0.0.1", 3306): 1,
        ("tcp", "10.98.0.1", 11211): 1,
        ("udp", "10.98.0.1", 11211): 1,
        ("tcp", "0.0.0.0", 22): 1,
        ("tcp", "::", 22): 1,
        # dnsmasq: every address of fa0 plus lo, TCP and UDP
        **{
            (proto, address, 53): 1
            for proto in ("tcp", "udp")
            for address in ("127.0.0.1", "::1", "10.98.0.1", "fd00:98::1", "fe80::98:1")
        },
        # unbound: 2 threads with SO_REUSEPORT, two sockets per address, port and protocol
        **{
            (proto, address, 5335): 2
            for proto in ("tcp", "udp")
            for address in ("127.0.0.1", "::1")
        },
        ("tcp", "127.0.0.1", 8953): 1,
        # chronyd: NTP server and command port
        ("udp", "10.98.0.1", 123): 1,
        ("udp", "127.0.0.1", 323): 1,
        ("udp", "::1", 323): 1,
    }
)


@pytest.mark.parametrize("name", ALL)
def test_every_tool_sees_every_listener_once(name: str) -> None:
    # a multiset: a tool that merged unbound's SO_REUSEPORT twins would fail here
    seen = Counter((s.proto.value, s.local_address, s.local_port) for s in listeners(name))
    assert seen == EXPECTED_LISTENERS


def _listener_scopes(name: str) -> Counter[tuple[str, str, int | None, str]]:
    return Counter(
        (s.proto.value, s.local_address, s.local_port, s.bind_scope.value) for s in listeners(name)
    )


def test_every_tool_gives_the_same_bind_scopes() -> None:
    reference = _listener_scopes("svc-ss-tuanpe-root")
    for name in ALL:
        assert _listener_scopes(name) == reference, name
    scopes = {(a, s) for _, a, _, s in reference}
    assert scopes == {
        ("0.0.0.0", "any"),
        ("::", "any"),
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("10.98.0.1", "private"),
        ("fd00:98::1", "private"),
        ("fe80::98:1", "link-local"),
    }


def test_nginx_master_and_workers_share_every_listener() -> None:
    for name in PRIVILEGED[:2]:
        socks = [s for s in listeners(name) if s.local_port in (80, 8000, 8080)]
        assert len(socks) == 5, name
        pid_sets = {frozenset(p.pid for p in s.processes) for s in socks}
        [pids] = pid_sets  # the same three processes on every nginx socket
        assert len(pids) == 3, name
        assert all(s.process_names == ("nginx",) for s in socks), name
    # the two downloads were accepted by workers, not by the master
    [pids] = {frozenset(p.pid for p in s.processes) for s in listeners("svc-ss-tuanpe-root", 80)}
    workers = {
        p.pid
        for s in sockets("svc-ss-tuanpe-root")
        if s.state.value == "ESTABLISHED" and s.local_port == 80
        for p in s.processes
    }
    assert workers and workers < pids
    # netstat shows one process per socket: the master, under its cut-down title
    ss_pids = {p.pid for s in listeners("svc-ss-tuanpe-root", 80) for p in s.processes}
    for name in NETSTAT:
        for s in [s for s in listeners(name) if s.local_port in (80, 8000, 8080)]:
            [process] = s.processes
            assert process.pid in ss_pids, name
            assert process.name.startswith("nginx: master"), name


def test_mariadb_listens_on_ipv4_loopback_only() -> None:
    for name in ALL:
        [db] = listeners(name, 3306)
        assert (db.proto.value, db.local_address, db.bind_scope.value) == (
            "tcp",
            "127.0.0.1",
            "loopback",
        ), name
        if name in PRIVILEGED:
            assert db.process_names == ("mariadbd",), name
    [db] = listeners("svc-ss-tuanpe-root", 3306)
    assert (db.accept_queue, db.backlog_limit, db.uid) == (0, 80, 104)


def test_redis_listens_on_both_loopbacks() -> None:
    for name in ALL:
        socks = listeners(name, 6379)
        assert addresses(socks) == {"127.0.0.1", "::1"}, name
        assert {s.bind_scope.value for s in socks} == {"loopback"}, name
        if name in PRIVILEGED:
            # netstat prints the proc title ("redis-server 127.0.0.1:6379") cut short
            assert all(n.startswith("redis-server") for s in socks for n in s.process_names)
    for s in listeners("svc-ss-tuanpe-root", 6379):
        assert (s.backlog_limit, s.uid, s.process_names) == (511, 108, ("redis-server",))


def test_dnsmasq_link_local_listener_keeps_its_interface() -> None:
    for name in ALL:
        scoped = [s for s in listeners(name, 53) if s.local_address == "fe80::98:1"]
        assert sorted(s.proto.value for s in scoped) == ["tcp", "udp"], name
        for s in scoped:
            assert s.bind_scope.value == "link-local", name
            # only ss prints the scope (fe80::98:1%fa0); netstat and /proc/net drop it
            assert s.local_interface == ("fa0" if name in SS else None), name
            if name in SS:
                assert s.endpoint == "[fe80::98:1%fa0]:53"
    # the TCP query dig made over the scoped address left a TIME-WAIT without a process
    [time_wait] = [s for s in sockets("svc-ss-tuanpe-root") if s.state.value == "TIME_WAIT"]
    assert (time_wait.local_address, time_wait.local_interface, time_wait.peer_port) == (
        "fe80::98:1",
        "fa0",
        53,
    )
    assert (time_wait.processes, time_wait.owner_known) == ((), True)


def test_unbound_reuseport_twins_are_two_sockets_of_one_process() -> None:
    for name in ("svc-ss-tuanpe-root", "svc-netstat-tuanpeW-root", PROC):
        for proto in ("tcp", "udp"):
            for address in ("127.0.0.1", "::1"):
                twins = [s for s in listeners(name, 5335, proto) if s.local_address == address]
                assert len(twins) == 2, (name, proto, address)
                assert len({s.inode for s in twins}) == 2, (name, proto, address)
                if name != PROC:
                    assert {p.pid for s in twins for p in s.processes} == {
                        twins[0].processes[0].pid
                    }
    [control] = listeners("svc-ss-tuanpe-root", 8953)
    assert (control.process_names, control.backlog_limit) == (("unbound",), 256)


def test_memcached_udp_socket_held_on_two_descriptors() -> None:
    [udp] = listeners("svc-ss-tuanpe-root", 11211, "udp")
    # ss lists the one process twice, once per descriptor
    assert [p.name for p in udp.processes] == ["memcached", "memcached"]
    assert len({p.pid for p in udp.processes}) == 1
    assert len({p.fd for p in udp.processes}) == 2
    assert udp.process_names == ("memcached",)
    [tcp] = listeners("svc-ss-tuanpe-root", 11211, "tcp")
    assert (tcp.bind_scope.value, tcp.backlog_limit, tcp.uid) == ("private", 1024, 106)


def test_chrony_ntp_and_command_ports() -> None:
    for name in ALL:
        assert addresses(listeners(name, 123)) == {"10.98.0.1"}, name
        assert addresses(listeners(name, 323)) == {"127.0.0.1", "::1"}, name
        assert {s.proto.value for s in listeners(name) if s.local_port in (123, 323)} == {"udp"}


BACKLOGS = {80: 511, 8000: 511, 8080: 64, 6379: 511, 3306: 80, 11211: 1024, 22: 128, 53: 32}


def test_backlog_limit_is_ss_send_q_and_unknown_elsewhere() -> None:
    for name in SS:
        for s in listeners(name, proto="tcp"):
            expected = 256 if s.local_port in (5335, 8953) else BACKLOGS[s.local_port]
            assert (s.accept_queue, s.backlog_limit) == (0, expected), (name, s.endpoint)
    for name in (*NETSTAT, PROC):
        for s in listeners(name, proto="tcp"):
            assert (s.accept_queue, s.backlog_limit) == (0, None), (name, s.endpoint)


def test_ipv6_wildcards_and_ipv4() -> None:
    for name in SS:
        [v6only_80] = [s for s in listeners(name, 80) if s.local_address == "::"]
        [v6only_22] = [s for s in listeners(name, 22) if s.local_address == "::"]
        [dual_8000] = listeners(name, 8000)
        assert (v6only_80.accepts_ipv4, v6only_22.accepts_ipv4) == (False, False), name
        assert (dual_8000.local_address, dual_8000.accepts_ipv4) == ("::", True), name
    for name in (*NETSTAT, PROC):
        for s in listeners(name):
            if s.local_address == "::":
                assert s.accepts_ipv4 is None, (name, s.endpoint)


def test_unprivileged_capture_never_claims_to_know_owners() -> None:
    socks = sockets("svc-ss-tuanp-user")
    assert len(socks) == len(sockets("svc-ss-tuanpe-root"))
    assert all(not s.owner_known and not s.processes for s in socks)
    assert not any(s.owner_known for s in sockets(PROC))


def test_privileged_captures_name_every_owner() -> None:
    for name in PRIVILEGED:
        for s in sockets(name):
            assert s.owner_known, (name, s.endpoint)
            if s.state.value != "TIME_WAIT":
                assert s.processes, (name, s.endpoint)


def test_clients_of_each_service_are_read() -> None:
    socks = sockets("svc-ss-tuanpe-root")
    clients = {
        (s.process_names, s.peer_address, s.peer_port)
        for s in socks
        if s.state.value == "ESTABLISHED" and s.local_port not in BACKLOGS
    }
    assert clients == {
        (("curl",), "10.98.0.1", 80),
        (("curl",), "fd00:98::1", 80),
        (("redis-cli",), "127.0.0.1", 6379),
        (("redis-cli",), "::1", 6379),
        (("mariadb",), "127.0.0.1", 3306),
        (("sleep",), "10.98.0.1", 11211),  # bash /dev/tcp, exec'd into sleep
        (("sleep",), "127.0.0.1", 22),
    }


@pytest.mark.parametrize("name", SS)
def test_ss_fast_path_agrees_with_exact_reader(name: str) -> None:
    text = (CAPTURES / f"{name}.txt").read_text()
    capture = Capture(text, not name.endswith("-user"))
    taken = 0
    for line in text.splitlines():
        fast = read_fast(line, 1, capture)
        if fast is not None:
            taken += 1
            assert fast == ss._parse_line(line, line.split(), 1, capture), line
    assert taken == len(text.splitlines()) - 1  # every line but the header
