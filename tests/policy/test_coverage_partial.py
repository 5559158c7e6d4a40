"""coverage: a listing with sockets but no listener is only part of one (taken without -a)."""

from fleetaudit.model import Proto, Severity, SocketState
from fleetaudit.policy import evaluate
from tests.factories import snapshot, sock
from tests.policy.builders import policy

COVERAGE = policy(
    """
    version: 1
    rules:
      - {id: coverage, kind: coverage, description: blind spots hide findings}
    """
)
ESTAB = SocketState.ESTABLISHED


def test_connections_without_any_listener_are_a_high_finding_naming_the_cause() -> None:
    """`ss -tunp` of a host with mysqld on 0.0.0.0:3306 shows only its connections."""
    host = snapshot(
        "db3",
        sock("10.0.0.5", 22, "sshd", state=ESTAB),
        sock("10.0.0.5", 3306, "mysqld", state=ESTAB),
        sock("10.0.0.5", 41000, "ntpd", state=ESTAB, proto=Proto.UDP),
    )
    [finding] = evaluate(host, COVERAGE)
    assert (finding.severity, finding.socket) == (Severity.HIGH, None)
    assert finding.message.startswith(
        "db3: its listing has 3 socket(s) but not one listening (no TCP LISTEN, no UDP UNCONN)"
    )
    assert "taken without -a/-l" in finding.message
    assert "one-state filter" in finding.message


def test_one_listener_of_either_kind_makes_the_listing_whole() -> None:
    for listener in (
        sock("0.0.0.0", 22, "sshd"),
        sock("0.0.0.0", 53, "dnsmasq", state=SocketState.UNCONN, proto=Proto.UDP),
    ):
        host = snapshot("web1", sock("10.0.0.5", 22, "sshd", state=ESTAB), listener)
        assert evaluate(host, COVERAGE) == []


def test_the_partial_listing_takes_the_unread_severity_and_its_own_fingerprint() -> None:
    custom = policy(
        """
        version: 1
        rules:
          - {id: coverage, kind: coverage, description: d, unread_severity: critical}
        """
    )
    host = snapshot("db3", sock("10.0.0.5", 22, "sshd", state=ESTAB))
    [finding] = evaluate(host, custom)
    assert finding.severity is Severity.CRITICAL
    more = snapshot(
        "db3", sock("10.0.0.5", 22, "sshd", state=ESTAB), sock("10.0.0.5", 80, state=ESTAB)
    )
    assert evaluate(more, custom)[0].fingerprint == finding.fingerprint
