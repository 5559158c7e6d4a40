"""netstat variants a fleet meets, recorded with ss's reading of the same real sockets by
tests/fixtures/make_netstat_captures.sh; see the "netstat variants" section of
tests/fixtures/captures/README.md.

busybox ``netstat`` (Alpine, OpenWrt, minimal images without ss) prints net-tools' columns
with differences a net-tools reading gets silently wrong: IPv6 sockets are labelled
``tcp``/``udp`` (no ``tcp6``), so the family must come from the address; the program is the
base name of argv[0]; ``-p`` may not be built in at all. net-tools without ``-W`` cuts an
IPv6 ``host:port`` longer than its 23-character column, often into a valid but wrong
address: such lines are reported, never guessed. toybox (Android, some embedded images) cuts
like net-tools without ``-W``, prints the IPv6 wildcard bracketed (``[::]:8443``) and the
whole command line as the program.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import date
from typing import Any

import pytest

from fleetaudit.model import Privilege, Tool
from fleetaudit.model.names import program_name, stands_for
from fleetaudit.model.socket import Socket
from fleetaudit.parse import detect_tool, parse_capture
from fleetaudit.policy import evaluate, load_default_policy
from tests.captures import CAPTURES, WITH_LINE_ERRORS, listeners, sockets
from tests.factories import as_json, snapshot

NAMES = sorted(path.stem for path in CAPTURES.glob("nt-*.txt"))
SS = "nt-ss-tuanpe-root"
WITH_PROGRAMS = "nt-busybox-tuanpe-root"  # a busybox built with netstat -p, as root
UNPRIVILEGED = "nt-busybox-tuanpe-user"  # the same build, as nobody
WITHOUT_PROGRAMS = "nt-busybox-tuane-root"  # Debian's busybox: no -p built in
BUSYBOX = (WITH_PROGRAMS, UNPRIVILEGED, WITHOUT_PROGRAMS)
WIDE = "nt-nettools-tuanpeW-root"  # net-tools with -W: nothing cut
CUT = "nt-nettools-tuanpe-root"  # net-tools without -W: long IPv6 addresses cut
TOYBOX_WIDE = "nt-toybox-tuanpeW-root"  # toybox with -W (what the collection script runs)
TOYBOX_CUT = "nt-toybox-tuanpe-root"  # toybox without -W: cut like net-tools
CUTS = (CUT, TOYBOX_CUT)
WHOLE = (*BUSYBOX, WIDE, TOYBOX_WIDE)  # every listing that prints every address whole
PIDNS = ("nt-ss-pidns-root", "nt-nettools-pidns-root")  # as root, from a PID namespace


def test_the_recorded_set_is_complete() -> None:
    assert NAMES == sorted((SS, *WHOLE, *CUTS, *PIDNS))
    assert set(CUTS) == WITH_LINE_ERRORS


def _cut(name: str = CUT, *, wide: bool = False) -> tuple[list[Socket], list[int]]:
    """The sockets and the error line numbers of a capture with cut addresses."""
    text = (CAPTURES / f"{name}.txt").read_text()
    _, result = parse_capture(text, tool=Tool.NETSTAT, privileged=True, wide=wide)
    return [Socket.from_raw(raw) for raw in result.sockets], [e.line for e in result.errors]


@pytest.mark.parametrize("name", CUTS)
def test_the_captures_with_cut_addresses_parse_to_their_golden_json(name: str) -> None:
    # tests/parse/test_captures.py checks every other capture; these have line errors
    expected: list[dict[str, Any]] = json.loads((CAPTURES / f"{name}.json").read_text())
    assert [as_json(s) for s in _cut(name)[0]] == expected


@pytest.mark.parametrize("name", (*WHOLE, *CUTS))
def test_recognised_as_netstat(name: str) -> None:
    assert detect_tool((CAPTURES / f"{name}.txt").read_text()) is Tool.NETSTAT


def _identity(s: Socket) -> tuple[Any, ...]:
    # ss prints the backlog limit as a LISTEN socket's Send-Q and netstat 0, and only ss
    # prints the %dev of a link-local address; everything else must agree
    send_q = None if s.state.value == "LISTEN" else s.send_q
    return (
        s.proto.value, s.family.value, s.state.value, s.local_address, s.local_port,
        s.peer_address, s.peer_port, s.recv_q, send_q, s.bind_scope.value,
    )  # fmt: skip


@pytest.mark.parametrize("name", WHOLE)
def test_every_socket_reads_as_ss_reads_it(name: str) -> None:
    assert Counter(map(_identity, sockets(name))) == Counter(map(_identity, sockets(SS)))


@pytest.mark.parametrize("name", BUSYBOX)
def test_ipv6_sockets_labelled_tcp_or_udp_are_ipv6(name: str) -> None:
    text = (CAPTURES / f"{name}.txt").read_text()
    labels = {line.split()[0] for line in text.splitlines()[2:]}
    assert labels == {"tcp", "udp"}  # busybox has no tcp6/udp6
    families = Counter(s.family.value for s in sockets(name))
    assert families == Counter(s.family.value for s in sockets(SS))
    assert families["ipv6"] > families["ipv4"] > 0
    wildcards = listeners(name, 9000) + listeners(name, 8443)
    assert {(s.local_address, s.family.value, s.bind_scope.value) for s in wildcards} == {
        ("::", "ipv6", "any")
    }
    mapped = {s.local_address for s in sockets(name) if s.state.value == "ESTABLISHED"}
    assert "::ffff:127.0.0.1" in mapped


def _fills_the_column(line: str) -> bool:
    fields = line.split()
    return fields[0] in ("tcp6", "udp6") and 23 in (len(fields[3]), len(fields[4]))


@pytest.mark.parametrize("name", CUTS)
def test_cut_addresses_are_reported_never_guessed(name: str) -> None:
    text = (CAPTURES / f"{name}.txt").read_text()
    full = [n for n, line in enumerate(text.splitlines(), 1) if line and _fills_the_column(line)]
    read, errors = _cut(name)
    assert errors == full and len(full) == 9
    # what was read is right, socket for socket; what was not is exactly what is missing
    from_ss = Counter(map(_identity, sockets(SS)))
    assert not Counter(map(_identity, read)) - from_ss
    assert len(read) + len(errors) == len(sockets(SS))


def test_a_cut_address_can_look_valid_and_be_wrong() -> None:
    """Why filling the column is enough to reject a line: read as if wide, net-tools' cut
    of 2001:db8:c17:1a2::1234 is the valid address 2001:db8:c17:1a2::1 (port 443), or
    ::12 (port 53), neither of which the host has."""
    addresses = {s.local_address for s in _cut(CUT, wide=True)[0]}
    assert {"2001:db8:c17:1a2::1", "2001:db8:c17:1a2::12"} <= addresses
    assert (
        not addresses
        & {"2001:db8:c17:1a2::1", "2001:db8:c17:1a2::12"}
        & {s.local_address for s in sockets(SS)}
    )


def test_an_address_that_fills_the_column_is_read_in_a_wide_capture() -> None:
    # [2001:db8:c17:1a::9]:8444 is exactly 23 characters and whole: -W printed it, and the
    # longer addresses around it show that the capture is wide
    [full] = listeners(WIDE, 8444)
    assert (full.local_address, full.bind_scope.value) == ("2001:db8:c17:1a::9", "private")


def _owners(name: str) -> dict[tuple[Any, ...], tuple[str, int | None]]:
    owners = {}
    for s in sockets(name):
        if s.processes:
            [process] = s.processes  # busybox and the recording: one process per socket
            owners[_identity(s)] = (process.name, process.pid)
    return owners


@pytest.mark.parametrize("listing", [WITH_PROGRAMS, TOYBOX_WIDE])
def test_owners_agree_with_ss(listing: str) -> None:
    from_ss, from_listing = _owners(SS), _owners(listing)
    assert from_listing.keys() == from_ss.keys()
    for key, (name, pid) in from_listing.items():
        ss_name, ss_pid = from_ss[key]
        assert pid == ss_pid
        assert program_name(name) == ss_name
        assert stands_for(name, pid, ss_name)


def test_busybox_and_toybox_print_a_rewritten_command_line_their_own_way() -> None:
    # redis-server rewrites its command line to "redis-server 127.0.0.1:6379"; busybox
    # prints the base name of that, cut to fit 19 characters with the PID; toybox all of it
    toybox = listeners(TOYBOX_WIDE, 6379)
    assert len(toybox) == 2  # 127.0.0.1 and ::1
    for socket in toybox:
        assert [p.name for p in socket.processes] == ["redis-server 127.0.0.1:6379"]
    for socket in listeners(WITH_PROGRAMS, 6379):
        [process] = socket.processes
        printed = f"{process.pid}/redis-server 127.0.0.1:6379"[:19]
        assert process.name == printed.partition("/")[2].rstrip()


def test_queued_connections_have_no_process_in_a_root_capture() -> None:
    # connections waiting in [::1]:7000's full accept queue belong to no process yet
    queued = [s for s in sockets(WITH_PROGRAMS) if s.local_port == 7000 and s.peer_port]
    assert len(queued) == 2
    assert all(s.owner_known and not s.processes for s in queued)
    [listener] = listeners(WITH_PROGRAMS, 7000)
    assert (listener.accept_queue, listener.backlog_limit) == (2, None)


def test_no_owner_claimed_without_privilege_or_without_p() -> None:
    for name in (UNPRIVILEGED, WITHOUT_PROGRAMS):
        assert all(not s.owner_known and not s.processes for s in sockets(name)), name


def test_unread_udp_data_is_the_receive_queue() -> None:
    for name in (SS, *WHOLE):
        [udp] = [s for s in listeners(name, 5353, "udp") if s.local_address == "0.0.0.0"]
        assert udp.recv_q > 0, name


def _findings(name: str, tool: Tool, groups: tuple[str, ...]) -> Counter[tuple[Any, ...]]:
    snap = snapshot("nt1", *sockets(name), tool=tool, privilege=Privilege.ROOT, groups=groups)
    findings = evaluate(snap, load_default_policy(), today=date(2026, 1, 1))
    return Counter(
        (
            f.rule_id,
            f.socket.proto.value if f.socket else None,
            f.socket.local_address if f.socket else None,
            f.socket.local_port if f.socket else None,
        )
        for f in findings
        if f.rule_id != "listen-backlog"  # judged from ss's backlog limit, unknown to netstat
    )


@pytest.mark.parametrize("groups", [(), ("web",), ("db",)])
def test_default_policy_judges_busybox_toybox_and_ss_alike(groups: tuple[str, ...]) -> None:
    from_ss = _findings(SS, Tool.SS, groups)
    assert _findings(WITH_PROGRAMS, Tool.NETSTAT, groups) == from_ss
    assert _findings(TOYBOX_WIDE, Tool.NETSTAT, groups) == from_ss
    snap = snapshot("nt1", *sockets(SS), privilege=Privilege.ROOT, groups=groups)
    full = [f for f in evaluate(snap, load_default_policy()) if f.rule_id == "listen-backlog"]
    assert [(f.socket.local_address, f.socket.local_port) for f in full if f.socket] == [
        ("::1", 7000)
    ]
    if groups:
        assert from_ss  # closed-world hosts: the recording's listeners are unexpected


@pytest.mark.parametrize("name", PIDNS)
def test_a_listener_whose_process_is_hidden_is_not_called_a_kernel_socket(name: str) -> None:
    """Run as root from a PID namespace of its own (an audit landing in a container that
    shares the host's network), ss and netstat see one helper's process and none of the
    others. redis-server's listeners belong to uid 108, which the kernel never uses for a
    socket of its own: their owner is unknown, not absent."""
    [helper] = listeners(name, 9999, "udp")
    assert [p.name for p in helper.processes] == ["python3"]
    redis = listeners(name, 6379, "tcp")
    assert len(redis) == 2
    assert all((s.uid, s.owner_known, s.processes) == (108, False, ()) for s in redis)
    # The limit of what the listing tells: a hidden listener of uid 0 (dnsmasq binds before
    # dropping privileges, python3 runs as root) cannot be told from a kernel socket.
    dns = listeners(name, 53, "tcp")
    assert dns and all((s.uid, s.owner_known, s.processes) == (0, True, ()) for s in dns)
    # Everything else reads as the ss listing taken from the namespace's own PID view.
    seen = Counter(map(_identity, sockets(name)))
    seen[_identity(helper)] -= 1
    assert +seen == Counter(map(_identity, sockets(SS)))
