"""/proc/net/{tcp,tcp6,udp,udp6}: hex addresses in host byte order, state codes."""

from __future__ import annotations

from fleetaudit.model.enums import Family, Proto, SocketState
from fleetaudit.model.socket import Socket
from fleetaudit.parse import proc_net

TCP_HEADER = (
    "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt"
    "   uid  timeout inode\n"
)
UDP_HEADER = (
    "   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt"
    "   uid  timeout inode ref pointer drops\n"
)


def parse(text: str) -> list[Socket]:
    result = proc_net.parse(text)
    assert result.errors == ()
    return [Socket.from_raw(raw) for raw in result.sockets]


def test_ipv4_listener_with_accept_queue() -> None:
    [sock] = parse(
        TCP_HEADER + "   0: 0100007F:1B58 00000000:0000 0A 00000000:00000005 00:00000000 "
        "00000000   106        0 4242 1 0000000000000000 100 0 0 10 0\n"
    )
    assert (sock.proto, sock.state, sock.local_address, sock.local_port) == (
        Proto.TCP,
        SocketState.LISTEN,
        "127.0.0.1",
        7000,
    )
    assert (sock.accept_queue, sock.backlog_limit, sock.uid, sock.inode) == (5, None, 106, 4242)
    assert sock.owner_known is False and sock.processes == ()


def test_ipv6_words_are_in_host_byte_order() -> None:
    [loopback, mapped] = parse(
        "==> /proc/net/tcp6 <==\n"
        + TCP_HEADER
        + "   0: 00000000000000000000000001000000:0016 00000000000000000000000000000000:0000 0A "
        "00000000:00000000 00:00000000 00000000     0        0 1 1 0 100 0 0 10 0\n"
        + "   1: 0000000000000000FFFF00000100007F:2328 0000000000000000FFFF00000100007F:A410 01 "
        "00000010:00000020 00:00000000 00000000     0        0 2 1 0 100 0 0 10 0\n"
    )
    assert (loopback.family, loopback.local_address, loopback.local_port) == (
        Family.IPV6,
        "::1",
        22,
    )
    assert (mapped.local_address, mapped.peer_port, mapped.state) == (
        "::ffff:127.0.0.1",
        42000,
        SocketState.ESTABLISHED,
    )
    assert (mapped.send_q, mapped.recv_q) == (16, 32)


def test_udp_unconnected_socket_from_the_marker_sections() -> None:
    text = (
        "==> /proc/net/udp <==\n"
        + UDP_HEADER
        + "  1: 00000000:0044 00000000:0000 07 00000000:00000300 00:00000000 00000000"
        "     0        0 99 2 0000000000000000 0\n"
    )
    [sock] = parse(text)
    assert (sock.proto, sock.state, sock.local_port, sock.recv_q) == (
        Proto.UDP,
        SocketState.UNCONN,
        68,
        0x300,
    )


def test_bad_lines_are_reported_and_others_still_read() -> None:
    text = (
        TCP_HEADER
        + "   0: 0100007F:1B58 00000000:0000 ZZ 00000000:00000000 00:0 0 0 0 1\n"
        + "   1: 0100007F:0016 00000000:0000 0A 00000000:00000000 00:0 0 0 0 2\n"
    )
    result = proc_net.parse(text)
    assert [s.local_port for s in result.sockets] == [22]
    assert result.errors[0].line == 2


RAW_AND_UNIX = """\
==> /proc/net/udp <==
   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
  727: 0100007F:1518 00000000:0000 07 00000000:00000340 00:00000000 00000000     0        0 4261922 2 000000008020833b 0

==> /proc/net/raw <==
  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
 205: 00000000:0001 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 4261925 2 000000004c2fdc04 0

==> /proc/net/unix <==
Num       RefCount Protocol Flags    Type St Inode Path
00000000c467926d: 00000002 00000000 00010000 0001 01 4261927 /run/qa.sock
00000000bfa6499d: 00000002 00000000 00000000 0002 01 4261928 @qa-abstract name

==> /proc/net/tcp <==
  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1B58 00000000:0000 0A 00000000:00000000 00:00000000 00000000   106        0 4242 1 0000000000000000 100 0 0 10 0
"""  # noqa: E501  (QA's capture of `tail -n +1 /proc/net/{udp,raw,unix,tcp}`)


def test_raw_and_unix_sections_are_skipped_not_read_as_udp_or_refused() -> None:
    """QA: /proc/net/raw (UDP's header; the port is the IP protocol number) was read as a
    UDP socket on port 1 of every address, and /proc/net/unix's lines as unreadable."""
    sockets = parse(RAW_AND_UNIX)
    assert [(s.proto, s.local_address, s.local_port) for s in sockets] == [
        (Proto.UDP, "127.0.0.1", 5400),
        (Proto.TCP, "127.0.0.1", 7000),
    ]
    unix_pasted_bare = RAW_AND_UNIX.split("==> /proc/net/unix <==\n")[1].replace(
        "==> /proc/net/tcp <==\n", ""
    )
    assert [s.local_port for s in parse(unix_pasted_bare)] == [7000]


def test_other_files_are_skipped_under_any_marker_of_theirs_and_others_read() -> None:
    """QA: `tail -n +1 /proc/self/net/*` and `cd /proc/net; tail -n +1 tcp raw` name the
    files otherwise, and `head /proc/net/*` pastes arp, dev...: only TCP and UDP tables are
    read; a marker of a name fleetaudit does not know (`tcp.txt`) is read by its header."""
    raw = RAW_AND_UNIX.split("==> /proc/net/raw <==\n")[1].split("==> /proc/net/unix")[0]
    tcp = RAW_AND_UNIX.split("==> /proc/net/tcp <==\n")[1]
    arp = "IP address       HW type     Flags       HW address            Mask     Device\n"
    arp += "192.0.2.1        0x1         0x2         02:fc:00:00:00:05     *        eth0\n\n"
    for raw_marker, tcp_marker in (
        ("==> /proc/self/net/raw <==", "==> /proc/self/net/tcp <=="),
        ("==> raw <==", "==> tcp <=="),
        ("==> /proc/net/arp <==", "==> host1/tcp.txt <=="),
    ):
        text = f"{raw_marker}\n{arp if 'arp' in raw_marker else raw}{tcp_marker}\n{tcp}"
        assert [(s.proto, s.local_port) for s in parse(text)] == [(Proto.TCP, 7000)], text
