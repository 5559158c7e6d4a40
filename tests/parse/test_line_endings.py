"""Lines end where the tools end them, at a newline: a process name may hold any other
character Python would also end a line at, and a capture may come with CRLF endings."""

from __future__ import annotations

import pytest

from fleetaudit.parse import netstat, parse_capture, proc_net, ss

# What str.splitlines also breaks at; any user can give their own process such a name
# (prctl(PR_SET_NAME), exec -a), and ss and netstat print it as it is.
BREAKERS = ["\r", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029"]

SS = (
    "Netid State  Recv-Q Send-Q Local Address:Port Peer Address:PortProcess\n"
    'tcp   LISTEN 0      5      127.0.0.1:7005      0.0.0.0:*    users:(("a{c}b",pid=12,fd=3))\n'
    "tcp   LISTEN 0      5      127.0.0.1:7006      0.0.0.0:*\n"
    "tcp   WEIRD  0      5      127.0.0.1:7007      0.0.0.0:*\n"
)
NETSTAT = (
    "Proto Recv-Q Send-Q Local Address           Foreign Address         State       "
    "PID/Program name    \n"
    "tcp        0      0 127.0.0.1:7005          0.0.0.0:*               LISTEN      12/a{c}b\n"
    "tcp        0      0 127.0.0.1:7007          0.0.0.0:*               WEIRD       13/x\n"
)


@pytest.mark.parametrize("char", BREAKERS)
def test_a_name_holding_a_line_breaking_character_stays_on_its_line(char: str) -> None:
    result = ss.parse(SS.format(c=char), privileged=True)
    assert [s.local_port for s in result.sockets] == [7005, 7006]
    assert result.sockets[0].processes[0].name == f"a{char}b"
    assert [error.line for error in result.errors] == [4]  # numbered as the file is
    result = netstat.parse(NETSTAT.format(c=char), privileged=True)
    assert [(s.local_port, s.processes[0].name) for s in result.sockets] == [(7005, f"a{char}b")]
    assert [error.line for error in result.errors] == [3]


def test_a_capture_saved_with_crlf_endings_reads_as_the_original() -> None:
    text = SS.format(c="-")
    crlf = text.replace("\n", "\r\n")
    tool, original = parse_capture(text)
    assert parse_capture(crlf) == (tool, original)
    proc = (
        "==> /proc/net/tcp <==\n"
        "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  "
        "timeout inode\n"
        "   0: 0100007F:1B5D 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0 "
        "       0 1234 1 0000000000000000 100 0 0 10 0\n"
    )
    assert proc_net.parse(proc.replace("\n", "\r\n")) == proc_net.parse(proc)


def test_a_name_holding_newlines_is_read_across_the_lines_ss_broke_it_into() -> None:
    """Lines 40-41 of a real `ss -tuanpe`: comm "nl\nx" (prctl). A name has at most 15
    characters; a line that starts a socket of its own is never taken as part of one."""
    text = (
        "Netid State  Recv-Q Send-Q Local Address:Port Peer Address:PortProcess\n"
        'tcp   LISTEN 0      16     127.0.0.1:7005      0.0.0.0:*     users:(("nl\n'
        'x",pid=1679,fd=3)) ino:21811290 sk:67458 <->\n'
        'tcp   LISTEN 0      16     127.0.0.1:7006      0.0.0.0:*     users:(("a\n'
        "\n"
        ' b",pid=1680,fd=3),("c",pid=1681,fd=4)) ino:5 sk:1 <->\n'
        'tcp   LISTEN 0      16     127.0.0.1:7007      0.0.0.0:*     users:(("cut\n'
        'tcp   LISTEN 0      16     127.0.0.1:7008      0.0.0.0:*     users:(("ok",pid=9,fd=3))\n'
    )
    result = ss.parse(text, privileged=True)
    read = {s.local_port: ([p.name for p in s.processes], s.inode) for s in result.sockets}
    assert read == {
        7005: (["nl\nx"], 21811290),
        7006: (["a\n\n b", "c"], 5),
        7008: (["ok"], None),
    }
    assert [(error.line, error.reason) for error in result.errors] == [
        (7, "unreadable users:(...) column")
    ]
