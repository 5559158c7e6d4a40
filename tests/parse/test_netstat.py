"""The netstat (net-tools) dialect."""

from __future__ import annotations

import pytest

from fleetaudit.model.enums import Family, Proto, SocketState
from fleetaudit.model.socket import Process, Socket
from fleetaudit.parse import netstat

WIDE = (
    "Active Internet connections (servers and established)\n"
    "Proto Recv-Q Send-Q Local Address           Foreign Address         State       "
    "User       Inode      PID/Program name    \n"
)
PLAIN = (
    "Active Internet connections (only servers)\n"
    "Proto Recv-Q Send-Q Local Address           Foreign Address         State       "
    "PID/Program name    \n"
)


def parse(body: str, header: str = WIDE, privileged: bool = True) -> list[Socket]:
    result = netstat.parse(header + body, privileged=privileged)
    assert result.errors == ()
    return [Socket.from_raw(raw) for raw in result.sockets]


def test_listen_backlog_limit_is_unknown_not_zero() -> None:
    [sock] = parse(
        "tcp        3      0 0.0.0.0:8080   0.0.0.0:*   LISTEN      0    1065   1410/java\n"
    )
    assert (sock.accept_queue, sock.backlog_limit, sock.send_q) == (3, None, 0)


def test_user_inode_and_program_columns() -> None:
    [sock] = parse(
        "tcp        0      0 127.0.0.1:25    0.0.0.0:*   LISTEN      0    12230      1288/master\n"
    )
    assert (sock.uid, sock.inode) == (0, 12230)
    assert sock.processes[0] == Process(name="master", pid=1288, fd=None)


def test_program_names_with_spaces_colons_and_trailing_space() -> None:
    [a, b] = parse(
        "tcp        0      0 0.0.0.0:22   0.0.0.0:*    LISTEN      600/sshd: /usr/sbin\n"
        "tcp        0      0 10.0.0.1:22  10.0.0.9:5  ESTABLISHED 3021/sshd: audit [p \n",
        header=PLAIN,
    )
    assert [a.processes[0].name, b.processes[0].name] == ["sshd: /usr/sbin", "sshd: audit [p"]


def test_udp_with_empty_state_is_unconnected() -> None:
    [sock] = parse(
        "udp        0      0 0.0.0.0:5353   0.0.0.0:*                   442/avahi-daemon: r\n",
        header=PLAIN,
    )
    assert (sock.proto, sock.state, sock.processes[0].name) == (
        Proto.UDP,
        SocketState.UNCONN,
        "avahi-daemon: r",
    )


def test_tcp6_triple_colon_wildcard() -> None:
    [sock] = parse("tcp6       0      0 :::22    :::*     LISTEN      0  11023  921/sshd\n")
    assert (sock.family, sock.local_address, sock.local_port, sock.bind_scope.value) == (
        Family.IPV6,
        "::",
        22,
        "any",
    )
    assert sock.accepts_ipv4 is None  # netstat cannot tell whether IPV6_V6ONLY is set


SSHD = "tcp        0      0 0.0.0.0:22     0.0.0.0:*        LISTEN      0  11023  921/sshd\n"


def test_dash_means_no_process_as_root_and_unknown_owner_otherwise() -> None:
    line = "tcp        0      0 10.0.0.1:22   10.0.0.2:40000   TIME_WAIT   0    0    -\n"
    [_, root] = parse(SSHD + line, privileged=True)
    [_, user] = parse(SSHD + line, privileged=False)
    assert (root.owner_known, user.owner_known) == (True, False)
    assert root.processes == user.processes == ()


@pytest.mark.parametrize(
    ("user", "owner_known"), [("0", True), ("root", True), ("27", False), ("mysql", False)]
)
def test_a_root_listener_without_a_process_is_the_kernels_only_when_root_owns_it(
    user: str, owner_known: bool
) -> None:
    """A listener of any other user (by number, or by name without -n) may be a process
    hidden from netstat (another PID namespace), not a kernel socket."""
    line = f"tcp        0      0 0.0.0.0:3306   0.0.0.0:*        LISTEN      {user}  9  -\n"
    [_, listener] = parse(SSHD + line, privileged=True)
    assert (listener.processes, listener.owner_known) == ((), owner_known)


def test_without_e_a_root_listener_without_a_process_has_an_unknown_owner() -> None:
    """No User column (no -e, or busybox, which adds none): whose the socket is is not
    shown, so it cannot be called the kernel's."""
    header = "Proto Recv-Q Send-Q Local Address   Foreign Address   State   PID/Program name\n"
    body = "tcp 0 0 0.0.0.0:22 0.0.0.0:* LISTEN 921/sshd\ntcp 0 0 0.0.0.0:3306 0.0.0.0:* LISTEN -\n"
    [_, listener] = parse(body, header=header, privileged=True)
    assert (listener.processes, listener.owner_known) == ((), False)


def test_a_root_capture_that_names_no_process_at_all_names_no_owner() -> None:
    """netstat run as root from another PID namespace prints "-" for every socket: "no
    process" would then be a guess for each of them (ss's rule too: only a root capture that
    shows some process proves what "-" means)."""
    header = "Proto Recv-Q Send-Q Local Address   Foreign Address   State   PID/Program name\n"
    body = "tcp 0 0 0.0.0.0:80 0.0.0.0:* LISTEN -\ntcp 0 0 127.0.0.1:11211 0.0.0.0:* LISTEN -\n"
    assert [s.owner_known for s in parse(body, header=header, privileged=True)] == [False, False]


def test_without_p_the_owner_is_unknown_even_as_root() -> None:
    header = "Proto Recv-Q Send-Q Local Address   Foreign Address   State\n"
    [sock] = parse("tcp 0 0 0.0.0.0:22 0.0.0.0:* LISTEN\n", header=header)
    assert sock.owner_known is False


def test_resolved_names_and_services_from_a_capture_without_n() -> None:
    [sock] = parse("tcp 0 0 localhost:smtp 0.0.0.0:* LISTEN 1489/master\n", header=PLAIN)
    assert (sock.local_address, sock.local_port) == ("localhost", 25)


def test_unix_section_raw_sockets_and_bad_lines() -> None:
    text = (
        WIDE
        + "raw6       0      0 :::58     :::*    7     0   27015   874/systemd-network\n"
        + "tcp        0      0 0.0.0.0:22   0.0.0.0:*   LISTEN      0    11021      921/sshd\n"
        + "tcp        0      0 0.0.0.0:23   0.0.0.0:*   WEIRD       0    11021      921/sshd\n"
        + "Active UNIX domain sockets (servers and established)\n"
        + "Proto RefCnt Flags       Type       State         I-Node   PID/Program name  Path\n"
        + "unix  2      [ ACC ]     STREAM     LISTENING     8981     1/systemd  /run/x\n"
    )
    result = netstat.parse(text, privileged=True)
    assert [s.local_port for s in result.sockets] == [22]
    assert [(e.line, e.reason) for e in result.errors] == [(5, "unknown TCP state 'WEIRD'")]


def test_ipv4_mapped_peers_of_tcp6_sockets_get_the_ffff_form() -> None:
    [sock] = parse(
        "tcp6       0      0 127.0.0.1:9000   127.0.0.1:55822   ESTABLISHED 0  5  77/python3\n"
    )
    assert (sock.local_address, sock.peer_address, sock.bind_scope.value) == (
        "::ffff:127.0.0.1",
        "::ffff:127.0.0.1",
        "loopback",
    )


def test_star_wildcard_of_a_capture_without_n_is_the_canonical_wildcard() -> None:
    """Without -n, netstat prints 0.0.0.0 as `*` (`*:ssh`, peer `*:*`)."""
    line = (
        "tcp        0      0 *:ssh                   *:*                     LISTEN      921/sshd\n"
    )
    [sock] = parse(line, PLAIN)
    assert (sock.family, sock.local_address, sock.local_port, sock.peer_address) == (
        Family.IPV4,
        "0.0.0.0",
        22,
        "0.0.0.0",
    )
    assert sock.bind_scope.value == "any"
