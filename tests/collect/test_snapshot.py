"""From a host's reply to its snapshot: what the script said about the listing decides how
it is read."""

import dataclasses

import pytest

from fleetaudit.collect.reply import parse_reply
from fleetaudit.model import HostStatus
from fleetaudit.policy import evaluate
from fleetaudit.snapshot import build_snapshot
from tests.factories import captured
from tests.policy.builders import policy

COVERAGE = policy(
    """
    version: 1
    rules:
      - {id: coverage, kind: coverage, description: blind spots hide findings}
    """
)

# [2001:db8:c17:1a::9]:8444 fills net-tools' 23-character address column exactly
LISTING = (
    "Active Internet connections (servers and established)\n"
    "Proto Recv-Q Send-Q Local Address           Foreign Address         State       "
    "PID/Program name    \n"
    "tcp6       0      0 2001:db8:c17:1a::9:8444 :::*                    LISTEN      "
    "700/python3         \n"
    "tcp        0      0 0.0.0.0:22              0.0.0.0:*               LISTEN      "
    "600/sshd            \n"
)


def _snapshot(command: str):
    stdout = f"@@fleetaudit 1\n@@uid 0\n@@tool netstat\n@@command {command}\n"
    stdout += "@@privilege root\n@@output\n" + LISTING
    reply = parse_reply(stdout)
    return reply, build_snapshot(captured(reply, "old1"))


def test_netstat_run_with_w_is_read_whole() -> None:
    reply, snap = _snapshot("netstat -tuanpeW")
    assert reply.command == "netstat -tuanpeW" and reply.wide
    assert not snap.parse_errors
    assert {(s.local_address, s.local_port) for s in snap.sockets} == {
        ("2001:db8:c17:1a::9", 8444),
        ("0.0.0.0", 22),
    }


@pytest.mark.parametrize("command", ["netstat -tuanpe", "netstat -tuane"])
def test_netstat_without_w_reports_what_may_be_cut(command: str) -> None:
    reply, snap = _snapshot(command)
    assert not reply.wide
    assert [e.line for e in snap.parse_errors] == [3]  # counted from the listing's first line
    assert [(s.local_address, s.local_port) for s in snap.sockets] == [("0.0.0.0", 22)]


def test_a_proc_net_host_is_not_told_to_get_privilege() -> None:
    stdout = "@@fleetaudit 1\n@@uid 1000\n@@tool proc\n@@privilege unprivileged\n@@output\n"
    stdout += (
        "==> /proc/net/tcp <==\n"
        "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  "
        "timeout inode\n"
        "   0: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0 "
        "       0 12345 1 0000000000000000 100 0 0 10 0\n"
    )
    note = build_snapshot(captured(parse_reply(stdout), "tiny1", become=True)).privilege_note
    assert note == "neither ss nor netstat on the host: /proc/net names no processes"


def test_a_busybox_netstat_without_p_is_told_to_install_ss_not_to_get_privilege() -> None:
    """busybox netstat built without -p names no process even as root: a sudoers line
    would change nothing, the coverage finding must say what would."""
    stdout = (
        "@@fleetaudit 1\n@@uid 1000\n@@tool netstat\n@@command netstat -tuane\n"
        "@@privilege unprivileged\n@@output\n"
        "Proto Recv-Q Send-Q Local Address           Foreign Address         State       "
        "User       Inode\n"
        "tcp        0      0 0.0.0.0:3306            0.0.0.0:*               LISTEN      "
        "106        24125\n"
    )
    reply = parse_reply(stdout)
    assert not reply.names_processes
    host = build_snapshot(captured(reply, "tiny2", become=True, user="audit"))
    assert host.privilege_note == (
        "the host's netstat cannot name processes even as root (built without -p); to name "
        "them, install ss (iproute2) on the host"
    )
    [finding] = evaluate(host, COVERAGE)
    assert "Install ss (iproute2) on the host" in finding.message
    assert "sudoers" not in finding.message


@pytest.mark.parametrize("listing", ["", "Netid State Recv-Q Send-Q Local Address:Port\n"])
def test_an_empty_listing_over_ssh_is_a_failed_listing_not_a_clean_host(listing: str) -> None:
    """Over SSH a host always has a socket: the audit's own connection. A listing without
    any (empty, or a header alone) was cut or forged; reading it as "listens on nothing"
    would report a clean host that was never seen. Without SSH (a local host in an empty
    network namespace) nothing is a possible answer."""
    reply = parse_reply("@@fleetaudit 1\n@@tool ss\n@@privilege root\n@@output\n" + listing)
    over_ssh = dataclasses.replace(captured(reply, "h26"), host_key_checked=True)
    snap = build_snapshot(over_ssh)
    assert snap.status is HostStatus.PARSE_ERROR
    assert "holds no socket, not even this audit's own SSH connection" in (snap.error or "")
    assert build_snapshot(captured(reply, "local1")).status is HostStatus.OK


def test_netstat_processes_are_named_by_the_comms_the_script_read() -> None:
    """A name netstat cut from a retitled command line gives way to the process's comm; a
    process without one (started after the script read them) keeps what netstat printed."""
    stdout = (
        "@@fleetaudit 1\n@@uid 0\n@@tool netstat\n@@command netstat -tuanpeW\n"
        "@@comm 1 init\n@@comm 600 sshd\n@@comm 700 my worker\n@@comm x1 bogus\n@@comm 800\n"
        "@@privilege root\n@@output\n" + LISTING.replace("700/python3    ", "701/python3    ")
    )
    reply = parse_reply(stdout)
    assert reply.comms == {1: "init", 600: "sshd", 700: "my worker"}
    host = build_snapshot(captured(reply, "alpine1"))
    names = {s.local_port: [(p.name, p.pid) for p in s.processes] for s in host.sockets}
    assert names == {22: [("sshd", 600)], 8444: [("python3", 701)]}


EXPORTER = (
    "@@fleetaudit 1\n@@uid 0\n@@tool netstat\n@@command netstat -tuanpeW\n@@privilege root\n"
    "@@comm 1 systemd\n@@comm 812 sshd\n@@comm 12345 node_exporter\n@@output\n"
    "Active Internet connections (servers and established)\n"
    "Proto Recv-Q Send-Q Local Address           Foreign Address         State       User  "
    "     Inode      PID/Program name    \n"
    "tcp        0      0 0.0.0.0:22              0.0.0.0:*               LISTEN      0     "
    "     1001       812/sshd: /usr/sbi  \n"
    "tcp        0      0 0.0.0.0:9100            0.0.0.0:*               LISTEN      65534 "
    "     1002       12345/node_exporter \n"
)


def test_a_comm_the_script_read_is_not_taken_for_a_name_netstat_cut() -> None:
    """QA: 12345/node_exporter fills netstat's 19 columns, so the printed name may be a
    longer one cut; the comm read from /proc is whole, and stands for no longer program
    (an allowlist entry for node_exporter_custom let it through)."""
    allowlist = policy(
        """
        version: 1
        rules:
          - {id: allow, kind: allowlist, severity: high, description: d,
             allow: [{process: sshd, port: 22}, {process: node_exporter_custom, port: 9100}]}
        """
    )
    host = build_snapshot(captured(parse_reply(EXPORTER), "nthost"))
    [exporter] = [p for s in host.sockets for p in s.processes if p.pid == 12345]
    assert exporter.is_comm and exporter.fd is None
    [finding] = evaluate(host, allowlist)
    assert finding.socket is not None and finding.socket.local_port == 9100
    # the same listing without the comms: netstat's own text, which may have been cut
    without = build_snapshot(
        captured(parse_reply(EXPORTER.replace("@@comm 12345 node_exporter\n", "")), "nthost")
    )
    assert evaluate(without, allowlist) == []


def test_processes_hidden_by_hidepid_count_as_owner_unknown_and_are_reported() -> None:
    """QA: with hidepid, the comms (read as the login user) miss other users' processes,
    while netstat ran as root through sudo; an exposed mysqld that netstat printed as
    `my.cnf` then got no finding at all. Such sockets count as owner unknown: judged by
    port, and the coverage rule says why. PID 1 missing from the comms is the sign."""
    hidden = (
        "@@fleetaudit 1\n@@uid 1000\n@@tool netstat\n@@command netstat -tuanpeW\n"
        "@@comm 4242 bash\n@@privilege root\n@@output\n" + LISTING
    )
    own_session = (  # the audit's own connection: its sshd process is hidden too, not counted
        "tcp        0      0 10.0.0.5:22             10.0.0.9:51200          ESTABLISHED "
        "901/sshd: audit    \n"
    )
    host = build_snapshot(captured(parse_reply(hidden + own_session), "hardened1", become=True))
    assert host.hidden_processes == 2
    assert not any(s.processes or s.owner_known for s in host.sockets)
    [finding] = evaluate(host, COVERAGE)
    assert "/proc hides other users' processes from the login user (hidepid)" in finding.message
    assert "the 2 listener process(es) netstat named as root" in finding.message
    assert "3 of 3 sockets have an unknown owner" in finding.message
    assert "Install ss (iproute2) on the host, or add the audit user to the group" in (
        finding.message
    )
    # PID 1 read: /proc hides nothing, and a process without a comm (started after they were
    # read) keeps the name netstat printed
    late = hidden.replace("@@comm 4242 bash\n", "@@comm 1 systemd\n@@comm 600 sshd\n")
    named = build_snapshot(captured(parse_reply(late), "hardened1", become=True))
    assert named.hidden_processes == 0
    names = {s.local_port: [p.name for p in s.processes] for s in named.sockets}
    assert names == {22: ["sshd"], 8444: ["python3"]}
    assert evaluate(named, COVERAGE) == []
