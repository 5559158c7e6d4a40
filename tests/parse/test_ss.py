"""The ss dialect, line shapes taken from real iproute2 output of several generations."""

from __future__ import annotations

from fleetaudit.model.enums import Family, Proto, SocketState
from fleetaudit.model.socket import Process, Socket
from fleetaudit.parse import ss

HEADER = "Netid State  Recv-Q Send-Q Local Address:Port Peer Address:PortProcess"


def one(line: str, *, header: str = HEADER, privileged: bool = True) -> Socket:
    result = ss.parse(f"{header}\n{line}\n", privileged=privileged)
    assert result.errors == ()
    assert len(result.sockets) == 1
    return Socket.from_raw(result.sockets[0])


def test_listen_socket_has_accept_queue_and_backlog_limit_from_send_q() -> None:
    sock = one('tcp LISTEN 5 4 127.0.0.1:7000 0.0.0.0:* users:(("python3",pid=42,fd=3))')
    assert (sock.accept_queue, sock.backlog_limit) == (5, 4)
    assert sock.processes[0] == Process(name="python3", pid=42, fd=3)


def test_established_socket_has_no_accept_queue_or_backlog() -> None:
    sock = one("tcp ESTAB 100 2000 10.0.0.1:22 10.0.0.2:51000")
    assert (sock.accept_queue, sock.backlog_limit, sock.recv_q, sock.send_q) == (
        None,
        None,
        100,
        2000,
    )
    assert (sock.peer_address, sock.peer_port) == ("10.0.0.2", 51000)


def test_old_users_form_without_pid_and_fd_keys() -> None:
    sock = one('tcp LISTEN 0 128 *:22 *:* users:(("sshd",1215,3))')
    assert sock.processes[0] == Process(name="sshd", pid=1215, fd=3)


def test_socket_shared_by_several_processes_keeps_every_holder() -> None:
    line = (
        "tcp LISTEN 0 511 0.0.0.0:80 0.0.0.0:* "
        'users:(("nginx",pid=11,fd=6),("nginx",pid=10,fd=6),("nginx",pid=10,fd=7))'
    )
    assert [(p.pid, p.fd) for p in one(line).processes] == [(11, 6), (10, 6), (10, 7)]


def test_selinux_contexts_are_skipped() -> None:
    # ss -Z and -z on an SELinux host (not recordable here: SELinux is off), in the format of
    # iproute2's find_entry(); an MLS category list holds commas
    context = "system_u:system_r:sshd_t:s0-s0:c0,c5.c1023"
    line = (
        "tcp LISTEN 0 128 0.0.0.0:22 0.0.0.0:* "
        f'users:(("sshd",pid=812,proc_ctx={context},fd=3),'
        f'("sshd",pid=900,proc_ctx={context},fd=4,sock_ctx={context})) ino:1 sk:2 <->'
    )
    sock = one(line)
    assert [(p.name, p.pid, p.fd) for p in sock.processes] == [("sshd", 812, 3), ("sshd", 900, 4)]
    assert sock.inode == 1


def test_process_names_with_spaces_quotes_and_parentheses() -> None:
    line = (
        'tcp LISTEN 0 5 127.0.0.1:7300 0.0.0.0:* users:(("my (odd) \\"srv\\" x",pid=7,fd=3),'
        '("a,b",pid=8,fd=4)) ino:99 sk:1 <->'
    )
    sock = one(line)
    assert [p.name for p in sock.processes] == ['my (odd) \\"srv\\" x', "a,b"]
    assert sock.inode == 99


def test_no_netid_column_in_a_one_protocol_listing() -> None:
    header = "State  Recv-Q Send-Q Local Address:Port Peer Address:PortProcess"
    sock = one("LISTEN 0 128 0.0.0.0:22 0.0.0.0:*", header=header)
    assert (sock.proto, sock.state) == (Proto.TCP, SocketState.LISTEN)


def test_headerless_udp_listing_reads_estab_as_udp() -> None:
    result = ss.parse("UNCONN 0 0 0.0.0.0:68 0.0.0.0:*\nESTAB 0 0 10.0.0.5:40000 10.0.0.1:53\n")
    assert [s.proto for s in result.sockets] == [Proto.UDP, Proto.UDP]
    # ss -tan: a bound TCP socket that neither listens nor connects is UNCONN too
    tcp = (
        "LISTEN 0 5 0.0.0.0:22 0.0.0.0:*\nESTAB 0 0 10.0.0.5:22 10.0.0.1:5300\n"
        "UNCONN 0 0 0.0.0.0:4000 0.0.0.0:*\n"
    )
    assert [s.proto for s in ss.parse(tcp).sockets] == [Proto.TCP] * 3


def test_estab_alone_in_a_one_protocol_listing_is_a_line_error() -> None:
    """`ss -unp` (connected UDP only) and `ss -tnp` print the same columns: never guessed."""
    text = (
        "State Recv-Q Send-Q Local Address:Port Peer Address:Port Process\n"
        'ESTAB 0      0          127.0.0.1:7700     127.0.0.1:5300 users:(("dig",pid=5,fd=3))\n'
        'ESTAB 0      0      [::1]:7701     [::1]:5300 users:(("UNCONN x",pid=6,fd=3))\n'
    )
    result = ss.parse(text)
    assert result.sockets == ()
    assert [error.line for error in result.errors] == [2, 3]
    assert "TCP or UDP is unknown" in result.errors[0].reason


def test_what_places_a_one_protocol_listing_is_never_read_from_a_process_name() -> None:
    """A real `ss -uanp` where one process renamed itself "x rto:1": the text a TCP socket
    shows with -i is in the listing, but only in a name its owner chose. Its UDP listener
    on port 69 must stay UDP. A newline in a name cannot forge a LISTEN line either."""
    text = (
        'ESTAB  0 0 127.0.0.1:40001 127.0.0.1:69 users:(("x rto:1",pid=452,fd=3))\n'
        'UNCONN 0 0 0.0.0.0:69      0.0.0.0:*    users:(("plainproc",pid=451,fd=8))\n'
        'ESTAB  0 0 127.0.0.1:40002 127.0.0.1:69 users:(("timer:(k,1,0)",pid=453,fd=3))\n'
        'ESTAB  0 0 127.0.0.1:40003 127.0.0.1:69 users:(("\nLISTEN 0 0 *:1",pid=454,fd=3))\n'
    )
    result = ss.parse(text)
    assert {s.proto for s in result.sockets} == {Proto.UDP}
    assert [s.local_port for s in result.sockets] == [40001, 69, 40002]
    # the forged line starts a socket of its own, so the name is not read across it: both
    # halves are line errors (flagged), and neither decides the protocol
    assert [error.line for error in result.errors] == [4, 5]
    # a whole LISTEN line does say TCP
    listing = text + "LISTEN 0 5 0.0.0.0:22 0.0.0.0:*\n"
    assert {s.proto for s in ss.parse(listing).sockets} == {Proto.TCP}


def test_two_names_on_one_socket_cannot_forge_a_socket_line() -> None:
    """A real `ss -ulnp`: one UDP socket shared by a process named "x\nLISTEN 0 0 a" and its
    child named ":1 b:2 ". Together they print a line that starts like a TCP listener; it
    must neither be read as one nor make the UDP listing TCP."""
    text = (
        "State  Recv-Q Send-Q Local Address:Port Peer Address:PortProcess\n"
        'UNCONN 0      0            0.0.0.0:7500      0.0.0.0:*    users:(("x\n'
        'LISTEN 0 0 a",pid=622,fd=3),(":1 b:2 ",pid=581,fd=3))\n'
        'UNCONN 0      0      0.0.0.0:7501      0.0.0.0:*    users:((":1 b:2 ",pid=581,fd=4))\n'
    )
    result = ss.parse(text, privileged=True)
    assert [(s.proto, s.local_port) for s in result.sockets] == [(Proto.UDP, 7501)]
    assert [error.line for error in result.errors] == [2, 3]
    assert "not a socket line" in result.errors[1].reason
    # a quote alone may be part of an interface name (Linux allows it), and is read
    bound = 'udp UNCONN 0 0 0.0.0.0%q"x:4012 0.0.0.0:* users:(("python3",pid=9,fd=3))\n'
    [socket] = ss.parse(bound).sockets
    assert (socket.local_interface, socket.local_port) == ('q"x', 4012)
    # with a Netid column, a line without one is never a socket of its own
    with_netid = "tcp LISTEN 0 5 0.0.0.0:22 0.0.0.0:*\nLISTEN 0 0 10.0.0.1:23 0.0.0.0:*\n"
    result = ss.parse(with_netid)
    assert [s.local_port for s in result.sockets] == [22]
    assert [error.line for error in result.errors] == [2]
    # a name cannot spell the header that would make every Netid-less line a forgery
    header_name = (
        "State Recv-Q Send-Q Local Address:Port Peer Address:Port Process\n"
        'LISTEN 0 5 127.0.0.1:7005 0.0.0.0:* users:(("\n'
        'Netid State x",pid=9,fd=3))\n'
        "LISTEN 0 5 0.0.0.0:22 0.0.0.0:*\n"
    )
    assert [s.local_port for s in ss.parse(header_name).sockets] == [7005, 22]
    # nor after a prompt line pasted above the header
    pasted = ss.parse(f"$ sudo ss -tuanp\n{HEADER}\n" + with_netid)
    assert [s.local_port for s in pasted.sockets] == [22]
    assert [error.line for error in pasted.errors] == [1, 4]  # the prompt, the forged line


def test_headerless_with_netid() -> None:
    result = ss.parse("tcp LISTEN 0 128 0.0.0.0:22 0.0.0.0:*\n")
    assert result.sockets[0].local_port == 22


def test_interface_scope_and_link_local() -> None:
    sock = one("udp UNCONN 0 0 127.0.0.53%lo:53 0.0.0.0:*")
    assert (sock.local_address, sock.local_interface, sock.bind_scope.value) == (
        "127.0.0.53",
        "lo",
        "loopback",
    )
    sock = one("udp UNCONN 0 0 [fe80::9cc5:aeff:fec5:34ae]%eth0:123 [::]:* v6only:1")
    assert (sock.local_address, sock.local_interface, sock.bind_scope.value) == (
        "fe80::9cc5:aeff:fec5:34ae",
        "eth0",
        "link-local",
    )


def test_ipv4_mapped_addresses_keep_dotted_form_and_classify_as_ipv4() -> None:
    sock = one("tcp ESTAB 0 0 [::ffff:127.0.0.1]:9000 [::ffff:127.0.0.1]:41000 0.0.0.0:*")
    assert sock.local_address == "::ffff:127.0.0.1"
    assert sock.family is Family.IPV6
    assert sock.bind_scope.value == "loopback"


def test_star_in_new_ss_is_a_dual_stack_ipv6_wildcard() -> None:
    text = (
        f"{HEADER}\n"
        "tcp LISTEN 0 128 0.0.0.0:22 0.0.0.0:*\n"
        "tcp LISTEN 0 64 *:6556 *:*\n"
        "tcp LISTEN 0 200 [::]:110 [::]:* v6only:1\n"
    )
    sockets = [Socket.from_raw(raw) for raw in ss.parse(text).sockets]
    dual, v6only = sockets[1], sockets[2]
    assert (dual.family, dual.local_address, dual.accepts_ipv4) == (Family.IPV6, "::", True)
    assert (v6only.local_address, v6only.accepts_ipv4) == ("::", False)
    assert sockets[0].accepts_ipv4 is None  # only IPv6 wildcards can also accept IPv4


def test_star_in_old_ss_is_the_ipv4_wildcard() -> None:
    # RHEL/CentOS 7's ss: "*" for the IPv4 wildcard, bracketed IPv6, and "*:*" as the peer of
    # every IPv4 listener (newer ss prints 0.0.0.0:* there)
    old_header = "Netid  State      Recv-Q Send-Q Local Address:Port   Peer Address:Port"
    text = (
        f"{old_header}\n"
        "tcp    LISTEN     0      128     *:ssh                   *:*\n"
        "tcp    LISTEN     0      100    127.0.0.1:smtp                  *:*\n"
        "tcp    LISTEN     0      128      [::]:ssh                    [::]:*\n"
    )
    result = ss.parse(text)
    assert result.errors == ()
    star = Socket.from_raw(result.sockets[0])
    assert (star.family, star.local_address, star.local_port) == (Family.IPV4, "0.0.0.0", 22)


def test_star_without_anything_telling_which_ss_printed_it_is_a_line_error() -> None:
    """`ss -6 -tlnH` of ss 4.15 or later: its "*" is an IPv6 socket that also accepts IPv4,
    but the same text from ss before 4.15 (RHEL 7) would be an IPv4 one: never guessed."""
    text = (
        "LISTEN 0      16                      *:23      *:*\n"
        "LISTEN 0      4096                 [::]:111  [::]:*\n"
        "LISTEN 0      10                  [::1]:5300 [::]:*\n"
    )
    result = ss.parse(text)
    assert [error.line for error in result.errors] == [1]
    assert "nothing in this capture tells" in result.errors[0].reason
    assert [s.local_port for s in result.sockets] == [111, 5300]
    # nor does a process name, which its owner chooses
    for name in (":::", "0.0.0.0:1", "1.1.1.1:1 *:*"):
        named = text + f'LISTEN 0 5 [::1]:26 [::]:* users:(("{name}",pid=7,fd=3))\n'
        assert [error.line for error in ss.parse(named).errors] == [1], name
    # one IPv4 listener in the listing shows which ss printed it
    result = ss.parse(text + "LISTEN 0      5            0.0.0.0:25   0.0.0.0:*\n")
    dual = Socket.from_raw(result.sockets[0])
    assert (result.errors, dual.local_address, dual.accepts_ipv4) == ((), "::", True)


def test_star_with_e_extras_but_no_v6only_is_ipv4() -> None:
    # -e prints v6only: for every IPv6 socket, so a "*" without it is the IPv4 wildcard
    for line in ("tcp LISTEN 0 128 *:22 *:* ino:1234 sk:1 <->", "LISTEN 0 128 *:22 *:* ino:1 sk:1"):
        result = ss.parse(line + "\n")
        assert result.errors == ()
        assert Socket.from_raw(result.sockets[0]).local_address == "0.0.0.0"
    result = ss.parse("tcp LISTEN 0 128 *:22 *:* ino:1234 sk:1 v6only:0 <->\n")
    assert Socket.from_raw(result.sockets[0]).accepts_ipv4 is True


def test_v6_wildcard_without_e_extras() -> None:
    # Old ss printed [::] for every IPv6 wildcard: nothing to tell from.
    old_header = "State Recv-Q Send-Q Local Address:Port Peer Address:Port"
    assert one("LISTEN 0 128 [::]:22 [::]:*", header=old_header).accepts_ipv4 is None
    # ss that prints 0.0.0.0 for IPv4 prints "*" for a dual-stack socket, so [::] is v6-only.
    text = f"{HEADER}\ntcp LISTEN 0 128 0.0.0.0:22 0.0.0.0:*\ntcp LISTEN 0 128 [::]:22 [::]:*\n"
    assert Socket.from_raw(ss.parse(text).sockets[1]).accepts_ipv4 is False


def test_process_column_glued_to_a_full_width_peer_port() -> None:
    sock = one('tcp ESTAB 0 0 127.0.0.1:22 127.0.0.1:51234users:(("ssh",pid=9,fd=3)) ino:5')
    assert sock.peer_port == 51234
    assert sock.processes == (sock.processes[0],) and sock.processes[0].name == "ssh"
    sock = one("tcp ESTAB 0 0 127.0.0.1:22 127.0.0.1:51234ino:77 sk:3 <->")
    assert (sock.peer_port, sock.inode) == (51234, 77)


def test_uid_is_zero_when_e_is_given_and_ss_omits_it() -> None:
    assert one("tcp LISTEN 0 128 0.0.0.0:22 0.0.0.0:* ino:10 sk:1 <->").uid == 0
    assert one("tcp LISTEN 0 128 0.0.0.0:22 0.0.0.0:* uid:112 ino:10 sk:1 <->").uid == 112
    assert one("tcp LISTEN 0 128 0.0.0.0:22 0.0.0.0:*").uid is None


def test_owner_known_only_for_privileged_captures_with_a_process_column() -> None:
    text = (
        f"{HEADER}\n"
        'tcp LISTEN 0 128 0.0.0.0:22 0.0.0.0:* users:(("sshd",pid=1,fd=3))\n'
        "tcp TIME-WAIT 0 0 10.0.0.1:22 10.0.0.2:50000\n"
    )
    root = ss.parse(text, privileged=True).sockets[1]
    user = ss.parse(text, privileged=False).sockets[1]
    assert (root.owner_known, user.owner_known) == (True, False)
    no_p = ss.parse(f"{HEADER}\ntcp LISTEN 0 128 0.0.0.0:22 0.0.0.0:*\n", privileged=True)
    assert no_p.sockets[0].owner_known is False


def test_a_root_listener_without_a_process_is_the_kernels_only_when_its_uid_is_roots() -> None:
    """Without -e a listener shown without a process was read as a kernel socket, so a
    mysqld hidden from ss (another PID namespace) on 0.0.0.0:3306 broke no rule (QA)."""
    sshd = 'tcp LISTEN 0 128 0.0.0.0:22 0.0.0.0:* users:(("sshd",pid=1,fd=3))'
    bare = "tcp LISTEN 0 80 0.0.0.0:3306 0.0.0.0:*"
    for extras, owner_known in (("", False), (" uid:27 ino:9 sk:2", False), (" ino:9 sk:2", True)):
        text = f"{HEADER}\n{sshd}\n{bare}{extras}\n"
        listener = ss.parse(text, privileged=True).sockets[1]
        assert (listener.processes, listener.owner_known) == ((), owner_known), extras
    # a connection without a process is no listener: none is hidden (TIME-WAIT, queued)
    text = f"{HEADER}\n{sshd}\ntcp ESTAB 0 0 10.0.0.1:22 10.0.0.2:50000\n"
    assert ss.parse(text, privileged=True).sockets[1].owner_known is True


def test_other_socket_kinds_are_skipped_and_bad_lines_reported_with_numbers() -> None:
    text = (
        f"{HEADER}\n"
        "nl UNCONN 0 0 rtnl:kernel *\n"
        "u_str ESTAB 0 0 * 1234 * 1235\n"
        "tcp LISTEN x 128 0.0.0.0:22 0.0.0.0:*\n"
        "tcp LISTEN 0 128 0.0.0.0:22 0.0.0.0:*\n"
        "tcp BOGUS 0 0 0.0.0.0:1 0.0.0.0:*\n"
    )
    result = ss.parse(text)
    assert len(result.sockets) == 1 and result.sockets[0].line == 5
    assert [(e.line, "Recv-Q" in e.reason or "state" in e.reason) for e in result.errors] == [
        (4, True),
        (6, True),
    ]


def test_unknown_states_and_states_with_dashes() -> None:
    for printed, state in [
        ("SYN-RECV", SocketState.SYN_RECV),
        ("FIN-WAIT-2", SocketState.FIN_WAIT2),
        ("CLOSE-WAIT", SocketState.CLOSE_WAIT),
        ("LAST-ACK", SocketState.LAST_ACK),
    ]:
        assert one(f"tcp {printed} 0 0 10.0.0.1:22 10.0.0.2:1").state is state


def test_wildcard_peer_of_a_udp_listener() -> None:
    sock = one('udp UNCONN 0 0 [::1]:123 [::]:* users:(("ntpd",pid=5,fd=1))')
    assert (sock.peer_address, sock.peer_port) == ("::", None)
    assert sock.processes[0] == Process(name="ntpd", pid=5, fd=1)


def test_a_resolved_name_with_an_ipv6_peer_is_an_ipv6_socket() -> None:
    """QA, `ss -tlpr`: a socket bound to ::ffff:127.0.0.1 prints as `localhost:8082 *:*`;
    the peer this ss prints only for IPv6 (an IPv4 socket's is 0.0.0.0:*) says its family,
    which the name alone (localhost) would have made IPv4."""
    capture = (
        "State  Recv-Q Send-Q    Local Address:Port       Peer Address:PortProcess\n"
        'LISTEN 1      128             0.0.0.0:ssh             0.0.0.0:*    users:(("qa-main",pid=8528,fd=4))\n'  # noqa: E501
        'LISTEN 2      128                   *:https                 *:*    users:(("qa-main",pid=8528,fd=6))\n'  # noqa: E501
        'LISTEN 0      128           localhost:8082                  *:*    users:(("qa-main",pid=8528,fd=9))\n'  # noqa: E501
        'LISTEN 3      2             localhost:bbs             0.0.0.0:*    users:(("fullq",pid=8026,fd=3))\n'  # noqa: E501
    )
    result = ss.parse(capture, privileged=True)
    assert not result.errors
    read = {s.local_port: (s.family, s.local_address) for s in map(Socket.from_raw, result.sockets)}
    assert read[8082] == (Family.IPV6, "localhost")
    assert read[7000] == (Family.IPV4, "localhost")
    assert read[443] == (Family.IPV6, "::")
