"""state-count on a real capture (tests/fixtures/captures/ss-tuanpe-root.txt)."""

from __future__ import annotations

from pathlib import Path

import pytest

from fleetaudit.errors import PolicyError
from fleetaudit.model.host import HostSnapshot
from fleetaudit.model.socket import Socket
from fleetaudit.parse import parse_capture
from fleetaudit.policy import evaluate
from tests.factories import snapshot
from tests.policy.builders import policy

CAPTURE = Path(__file__).parents[1] / "fixtures" / "captures" / "ss-tuanpe-root.txt"


def host() -> HostSnapshot:
    _, result = parse_capture(CAPTURE.read_text(), privileged=True)
    return snapshot("app9", *(Socket.from_raw(raw) for raw in result.sockets))


def rule(body: str) -> str:
    return (
        "version: 1\nrules:\n  - id: counts\n    kind: state-count\n    severity: medium\n"
        "    description: leaked or half-open connections\n" + body
    )


def test_per_process_count_names_the_process() -> None:
    findings = evaluate(host(), policy(rule("    state: SYN_SENT\n    max: 3\n    per: process\n")))
    [finding] = findings
    assert finding.message.startswith("python3 on app9: 5 sockets in SYN_SENT (limit 3)")
    assert finding.socket is None


def test_per_host_count_and_the_limit_is_exclusive() -> None:
    over = evaluate(host(), policy(rule("    state: [TIME_WAIT, CLOSE_WAIT]\n    max: 1\n")))
    assert [f.message.split(".")[0] for f in over] == [
        "app9: 2 sockets in TIME_WAIT/CLOSE_WAIT (limit 1)"
    ]
    assert evaluate(host(), policy(rule("    state: [TIME_WAIT, CLOSE_WAIT]\n    max: 2\n"))) == []


def test_sockets_without_a_process_are_counted_as_such() -> None:
    findings = evaluate(
        host(), policy(rule("    state: ESTABLISHED\n    max: 4\n    per: process\n"))
    )
    owners = [f.message.split(" on ")[0] for f in findings]
    assert "(no process)" in owners  # the five accept-queue connections nobody accepted


def test_per_process_counts_group_by_program_through_ss_and_netstat() -> None:
    """Real services read with ss and with netstat (fixtures/captures/svc-*): netstat's
    rewritten command lines ('nginx: master', 'nginx: worker p', 'sshd: /usr/sbi') must
    count as the programs ss names."""
    body = "    state: [LISTEN, ESTABLISHED]\n    max: 0\n    per: process\n"
    owners = []
    for capture in ("svc-ss-tuanpe-root", "svc-netstat-tuanpeW-root"):
        _, result = parse_capture((CAPTURE.parent / f"{capture}.txt").read_text(), privileged=True)
        svc = snapshot("svc1", *(Socket.from_raw(raw) for raw in result.sockets))
        owners.append(sorted(f.message.split(" on ")[0] for f in evaluate(svc, policy(rule(body)))))
    assert owners[0] == owners[1]
    assert {"nginx", "sshd", "redis-server"} <= set(owners[0])


def test_schema_errors() -> None:
    with pytest.raises(PolicyError, match="rules.0.state"):
        policy(rule("    state: CLOSED_WAIT\n    max: 1\n"))
    with pytest.raises(PolicyError, match="rules.0.max"):
        policy(rule("    state: CLOSE_WAIT\n    max: -1\n"))
