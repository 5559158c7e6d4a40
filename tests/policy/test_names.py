"""A rule's program name matches what ss and netstat really print for that program."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from fleetaudit.model.enums import Family, Proto, SocketState, Tool
from fleetaudit.model.names import program_name, stands_for
from fleetaudit.model.raw import RawProcess, RawSocket
from fleetaudit.model.socket import Socket
from fleetaudit.policy import evaluate, load_policy
from tests.captures import sockets
from tests.factories import snapshot

DEFAULT = Path(__file__).parents[2] / "policies" / "default.yaml"


@pytest.mark.parametrize(
    ("printed", "pid", "program"),
    [
        ("nginx", 812, "nginx"),
        ("my server", 5490, "my server"),  # a binary whose name has a space
        ("nginx: master", 3537, "nginx"),  # netstat, command line rewritten by the daemon
        ("sshd: /usr/sbi", 3554, "sshd"),
        ("redis-server 1", 3540, "redis-server"),  # 'redis-server 127.0.0.1:6379', cut
        ("systemd-resolve", 611, "systemd-resolved"),  # ss: the comm keeps 15 characters
        ("prometheus-no", 12345, "prometheus-node-exporter"),  # netstat: '12345/prometheus-no'
        # squid 5.7's workers, as net-tools and busybox print them (ss prints the comm 'squid')
        ("(squid-1)", 10895, "squid"),
        ("(squid-coord-2)", 10896, "squid"),  # SMP coordinator
        ("(squid-coord-", 26064, "squid"),  # netstat: '26064/(squid-coord-3)' cut to 19
        ("(pinger)", 10899, "pinger"),
        # dovecot 2.3 starts imap-login with argv[0] 'dovecot/imap-login': net-tools 2.10
        # keeps a relative argv[0] whole (cut to fit), busybox prints its base name
        ("dovecot/imap-", 11257, "imap-login"),
        ("imap-login", 11257, "imap-login"),
        # the kernel cuts a comm at 15 bytes, here inside the 3-byte '✓' (read as U+FFFD)
        ("ééééééé\ufffd", 11870, "ééééééé✓"),
        ("süddeutsche-ze", 42, "süddeutsche-zeitung"),  # 15 bytes, 14 characters
    ],
)
def test_names_as_the_tools_print_them_stand_for_the_program(
    printed: str, pid: int, program: str
) -> None:
    assert stands_for(printed, pid, program)


@pytest.mark.parametrize(
    ("printed", "pid", "program"),
    [
        ("nginx-proxy", 900, "nginx"),  # another program whose name starts the same
        ("redis-server", 901, "redis"),
        ("ngin", 902, "nginx"),  # shorter, but not cut at any tool's width
        ("mysqld", None, "mysqld-exporter"),
        ("sshd", 903, "sshd: /usr/sbin"),
        ("(nginx-proxy)", 904, "nginx"),  # a worker title names its program whole
        ("(nginx-proxy-1)", 907, "nginx"),  # ... with a kid number too
        ("(php-fpm-7)", 908, "php"),
        ("(squid-coord-2)", None, "squidguard"),  # 15 bytes, but closed: not cut
        ("(squid-coord-", 26064, "squidguard"),  # cut after the program: it is whole
        ("dovecot/", 905, "dovecot"),  # a directory is no program
        ("ééééééé\ufffd", 906, "éééééé"),  # the cut name is longer than the program
    ],
)
def test_other_programs_never_match(printed: str, pid: int | None, program: str) -> None:
    assert not stands_for(printed, pid, program)


@pytest.mark.parametrize(
    ("printed", "program"),
    [
        ("nginx", "nginx"),
        ("nginx: master", "nginx"),
        ("sshd: /usr/sbi", "sshd"),
        ("redis-server 1", "redis-server"),
        ("redis-server 12", "redis-server"),  # the same server after a restart, longer PID
        (": odd", ": odd"),  # nothing before the separator: keep the text
        ("(squid-1)", "squid"),  # the same worker ss shows as 'squid'
        ("(squid-12)", "squid"),  # ... after a restart with more workers
        ("(squid-coord-", "squid"),
        ("(nginx-proxy-1)", "nginx-proxy"),
        ("dovecot/imap-", "imap-"),
    ],
)
def test_program_name_survives_where_netstat_cuts(printed: str, program: str) -> None:
    assert program_name(printed) == program


@pytest.mark.parametrize("groups", [(), ("db",), ("web",), ("app",)])
def test_default_policy_judges_a_host_alike_through_ss_and_netstat(groups: tuple[str, ...]) -> None:
    """Real services (nginx, sshd, redis, mariadb...; see fixtures/captures/README.md) read
    with ss and with netstat must draw the same findings: netstat prints 'nginx: master'
    and 'sshd: /usr/sbi', which once made the allowlists flag them on netstat hosts."""
    policy = load_policy(DEFAULT)

    def judged(capture: str) -> set[tuple[str, str, int | None, str]]:
        host = snapshot("svc1", *sockets(capture), groups=groups)
        return {
            (f.rule_id, f.socket.proto.value, f.socket.local_port, f.socket.local_address)
            for f in evaluate(host, policy, date(2026, 11, 24))
            if f.socket is not None
        }

    through_ss = judged("svc-ss-tuanpe-root")
    assert through_ss == judged("svc-netstat-tuanpeW-root")
    if groups:
        assert through_ss  # the comparison is not between two empty sets


def test_a_process_holding_a_socket_twice_is_named_once() -> None:
    # memcached's UDP socket: ss lists the one process under two descriptors.
    raw = RawSocket(
        Tool.SS, Proto.UDP, Family.IPV4, SocketState.UNCONN, 0, 0, "0.0.0.0", 11211, None,
        "0.0.0.0", None, (RawProcess("memcached", 77, 16), RawProcess("memcached", 77, 17)), True,
    )  # fmt: skip
    assert Socket.from_raw(raw).owner_label == "memcached[77]"


def test_a_whole_comm_listed_by_ss_is_never_taken_for_a_cut_name() -> None:
    """QA: ss's comm `node_exporter` of PID 12345 (5 + 1 + 13 = 19 characters, netstat's
    width) stood for a rule's `node_exporter_custom`: ss prints whole comms up to 15 bytes,
    and a process ss listed has the descriptor netstat never shows."""
    assert not stands_for("node_exporter", 12345, "node_exporter_custom", comm=True)
    assert stands_for("node_exporter", 12345, "node_exporter_custom")  # netstat: may be cut
    assert stands_for("systemd-resolve", 611, "systemd-resolved", comm=True)  # 15 bytes: cut
