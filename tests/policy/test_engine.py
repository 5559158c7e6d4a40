"""The engine: host selection, non-OK hosts, deterministic order, stable fingerprints."""

import pytest

from fleetaudit.model import HostStatus
from fleetaudit.policy import evaluate
from tests.factories import snapshot, sock
from tests.policy.builders import policy

TWO_RULES = policy(
    """
    version: 1
    rules:
      - {id: no-telnet, kind: forbidden, severity: high, description: d, match: {port: 23}}
      - {id: loopback, kind: bind-scope, severity: high, description: d,
         match: {port: [23, 3306]}, allow: [loopback]}
    """
)


def test_findings_come_in_rule_order_then_socket_order() -> None:
    host = snapshot("h", sock("0.0.0.0", 3306, "mysqld"), sock("0.0.0.0", 23, "inetd"))
    found = [
        (f.rule_id, f.socket.local_port if f.socket else None) for f in evaluate(host, TWO_RULES)
    ]
    assert found == [("no-telnet", 23), ("loopback", 3306), ("loopback", 23)]


def test_evaluation_is_repeatable() -> None:
    host = snapshot("h", sock("0.0.0.0", 3306, "mysqld"), sock("0.0.0.0", 23, "inetd"))
    assert evaluate(host, TWO_RULES) == evaluate(host, TWO_RULES)


@pytest.mark.parametrize("status", [s for s in HostStatus if s is not HostStatus.OK])
def test_hosts_not_audited_get_no_findings(status: HostStatus) -> None:
    host = snapshot("h", sock("0.0.0.0", 23, "inetd"), status=status, error="failed")
    assert evaluate(host, TWO_RULES) == []


def test_fingerprint_ignores_pid_but_not_address_or_process() -> None:
    def fp(address: str, process: str, pid: int) -> str:
        [f] = evaluate(snapshot("h", sock(address, 23, process, pid=pid)), TWO_RULES)[:1]
        return f.fingerprint

    assert fp("0.0.0.0", "inetd", 100) == fp("0.0.0.0", "inetd", 4242)
    assert fp("0.0.0.0", "inetd", 100) != fp("10.0.0.1", "inetd", 100)
    assert fp("0.0.0.0", "inetd", 100) != fp("0.0.0.0", "xinetd", 100)


def test_fingerprint_differs_per_host_and_rule() -> None:
    a = evaluate(snapshot("a", sock("0.0.0.0", 23, "inetd")), TWO_RULES)
    b = evaluate(snapshot("b", sock("0.0.0.0", 23, "inetd")), TWO_RULES)
    assert len({f.fingerprint for f in a + b}) == 4


SELECTED = policy(
    """
    version: 1
    rules:
      - id: prod-db-not-lab
        kind: forbidden
        severity: high
        description: d
        select:
          hosts: ["db*", "sql-??"]
          groups: [db, warehouse]
          labels: {env: prod}
          not: {labels: {tier: lab}}
        match: {port: 23}
    """
)


@pytest.mark.parametrize(
    ("host", "groups", "labels", "selected"),
    [
        ("db1", ("db",), {"env": "prod"}, True),
        ("sql-07", ("warehouse", "x"), {"env": "prod", "team": "a"}, True),
        ("web1", ("db",), {"env": "prod"}, False),  # name glob
        ("sql-7", ("db",), {"env": "prod"}, False),  # ?? needs two characters
        ("db1", ("web",), {"env": "prod"}, False),  # group
        ("db1", ("db",), {"env": "dev"}, False),  # label value
        ("db1", ("db",), {}, False),  # label missing
        ("db1", ("db",), {"env": "prod", "tier": "lab"}, False),  # not
    ],
)
def test_selectors_pick_hosts_by_glob_group_label_and_not(
    host: str, groups: tuple[str, ...], labels: dict[str, str], selected: bool
) -> None:
    snap = snapshot(host, sock("0.0.0.0", 23, "inetd"), groups=groups, labels=labels)
    assert len(evaluate(snap, SELECTED)) == int(selected)


def test_sockets_sharing_a_port_with_so_reuseport_are_one_finding() -> None:
    """QA: nginx's `reuseport` (HAProxy, Envoy) gives every worker a socket of its own on
    the port, which ss lists apart. Each became a finding with the same fingerprint (pids
    are not in it): SARIF collapsed them, JUnit repeated them, CSV readers keyed on the
    fingerprint dropped rows. One finding stands for the listener, with every process."""
    workers = [sock("0.0.0.0", 23, "inetd", pid=pid) for pid in (100, 101, 102)]
    other = sock("10.0.0.1", 23, "inetd", pid=103)  # another listener: its own finding
    findings = evaluate(snapshot("h", *workers, other), TWO_RULES)
    telnet = [f for f in findings if f.rule_id == "no-telnet"]
    assert len({f.fingerprint for f in findings}) == len(findings)
    assert [f.socket.local_address for f in telnet if f.socket] == ["0.0.0.0", "10.0.0.1"]
    merged = telnet[0]
    assert merged.socket is not None
    assert [p.pid for p in merged.socket.processes] == [100, 101, 102]
    assert (
        merged.headline
        == "inetd listens on 0.0.0.0:23/tcp (any address), as 3 sockets (SO_REUSEPORT)."
    )
    assert "as 3 sockets" not in telnet[1].message
