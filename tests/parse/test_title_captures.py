"""Process names the tools print differently, recorded with ss's reading of the same real
processes by tests/fixtures/make_title_captures.sh; see the "Title captures" section of
tests/fixtures/captures/README.md.

ss prints the comm; net-tools prints the start of the command line, where squid's workers
title themselves ``(squid-1)`` and dovecot starts imap-login as ``dovecot/imap-login``;
busybox prints the base name of argv[0]. A rule that names a program must judge the same
process alike whichever tool listed it, and identities (fingerprints, diffs) must not change.
"""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Any

import pytest

from fleetaudit.model.names import stands_for
from fleetaudit.model.socket import Socket
from fleetaudit.policy import evaluate, parse_policy
from tests.captures import CAPTURES, read_capture, sockets
from tests.factories import snapshot

NAMES = sorted(path.stem for path in CAPTURES.glob("title-*.txt"))
SS = "title-ss-tuanpe-root"
NETSTAT = "title-netstat-tuanpeW-root"
BUSYBOX = "title-busybox-tuanpe-root"
RENAMED_PORT = 9100  # python3 renamed 'ééééééé✓': its comm differs from its command line
POLICY = """
version: 1
rules:
  - id: proxy-and-mail-only
    kind: allowlist
    severity: high
    description: this host runs squid and dovecot only.
    allow:
      - {process: squid, port: [3128, 3129], proto: tcp}
      - {process: dovecot, port: 143, proto: tcp}
      - {port: 9100, proto: tcp}  # the renamed python3: netstat shows its command line
"""


def test_the_recorded_set_is_complete() -> None:
    assert NAMES == sorted((SS, NETSTAT, BUSYBOX))


def _identity(s: Socket) -> tuple[Any, ...]:
    send_q = None if s.state.value == "LISTEN" else s.send_q  # netstat prints 0 there
    return (
        s.proto.value, s.family.value, s.state.value, s.local_address, s.local_port,
        s.peer_address, s.peer_port, s.recv_q, send_q,
    )  # fmt: skip


@pytest.mark.parametrize("name", (NETSTAT, BUSYBOX))
def test_every_socket_reads_as_ss_reads_it(name: str) -> None:
    assert Counter(map(_identity, sockets(name))) == Counter(map(_identity, sockets(SS)))


def _names_by_pid(name: str) -> dict[int | None, set[str]]:
    found: dict[int | None, set[str]] = {}
    for s in sockets(name):
        if s.local_port != RENAMED_PORT:
            for p in s.processes:
                found.setdefault(p.pid, set()).add(p.name)
    return found


@pytest.mark.parametrize("name", (NETSTAT, BUSYBOX))
def test_every_name_stands_for_the_program_ss_names(name: str) -> None:
    text = read_capture(CAPTURES / f"{name}.txt")
    assert "(squid-1)" in text and "(pinger)" in text
    assert ("dovecot/imap-" if name == NETSTAT else "/imap-login") in text
    comms = _names_by_pid(SS)
    for pid, printed in _names_by_pid(name).items():
        for shown in printed:
            assert any(stands_for(shown, pid, comm) for comm in comms[pid]), (shown, comms[pid])


def test_identities_do_not_depend_on_the_tool() -> None:
    def programs(name: str) -> set[tuple[int | None, tuple[str, ...]]]:
        return {
            (s.local_port, s.program_names)
            for s in sockets(name)
            if any("squid" in p.name for p in s.processes)
        }

    assert programs(SS) == programs(NETSTAT) == programs(BUSYBOX)
    assert ("squid",) in {names for _, names in programs(SS)}


def test_a_comm_cut_inside_a_character_still_names_its_program() -> None:
    [renamed] = [s for s in sockets(SS) if s.local_port == RENAMED_PORT]
    [(name, pid)] = [(p.name, p.pid) for p in renamed.processes]
    assert name == "ééééééé\ufffd"  # 15 bytes kept by the kernel, the last one undecodable
    assert stands_for(name, pid, "ééééééé✓")


@pytest.mark.parametrize("name", (SS, NETSTAT))
def test_a_program_allowlist_judges_every_listing_alike(name: str) -> None:
    policy = parse_policy(POLICY, "title-policy.yaml")
    host = snapshot("proxy1", *sockets(name))
    flagged = {
        (f.socket.proto.value, f.socket.local_port)
        for f in evaluate(host, policy, date(2026, 11, 27))
        if f.socket is not None
    }
    # squid's DNS client sockets (UDP) are unexpected; every TCP listener is allowed
    assert flagged and all(proto == "udp" for proto, _ in flagged), flagged
