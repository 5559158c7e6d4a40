"""backlog: a listener whose accept queue nears its limit (or a large one when unknown)."""

import pytest

from fleetaudit.model import Severity, SocketState, Tool
from fleetaudit.policy import evaluate
from tests.factories import snapshot, sock
from tests.policy.builders import policy

BACKLOG = policy(
    """
    version: 1
    rules:
      - {id: backlog, kind: backlog, severity: medium, description: full queues drop
         connections, fraction: 0.8, min_queue: 100}
    """
)


@pytest.mark.parametrize(
    ("queue", "limit", "fires"),
    [
        (128, 128, True),
        (129, 128, True),
        (103, 128, True),
        (102, 128, False),
        (0, 0, False),
        (0, 128, False),
    ],
)
def test_known_limit_fires_at_the_fraction(queue: int, limit: int, fires: bool) -> None:
    listener = sock("0.0.0.0", 8080, "java", recv_q=queue, send_q=limit)
    assert len(evaluate(snapshot("app1", listener), BACKLOG)) == int(fires)


def test_message_shows_queue_over_limit_and_what_it_means() -> None:
    listener = sock("*", 8080, "java", recv_q=128, send_q=128)
    [finding] = evaluate(snapshot("app1", listener), BACKLOG)
    assert finding.severity is Severity.MEDIUM
    assert "java listens on *:8080/tcp" in finding.message
    assert "accept queue 128/128, near its limit" in finding.message
    assert "not calling accept() fast enough, or a SYN flood" in finding.message


@pytest.mark.parametrize(
    ("queue", "limit", "said"),
    [
        # Linux holds limit + 1 before it drops (QA: 8/10 "connections are being dropped")
        (8, 10, "accept queue 8/10, near its limit: once it is full, the kernel drops new"),
        (10, 10, "accept queue 10/10, near its limit: once it is full"),
        (11, 10, "accept queue 11/10, full: the kernel drops every new connection"),
        (1, 0, "accept queue 1/0, full: the kernel drops every new connection"),  # listen(0)
    ],
)
def test_the_message_says_whether_connections_are_dropped_yet(
    queue: int, limit: int, said: str
) -> None:
    listener = sock("127.0.0.1", 5040, "python3", recv_q=queue, send_q=limit)
    [finding] = evaluate(snapshot("app1", listener), BACKLOG)
    assert said in finding.message
    assert ("near its limit" in finding.message) is (queue <= limit)


@pytest.mark.parametrize(("queue", "fires"), [(99, False), (100, True), (400, True)])
def test_unknown_limit_uses_min_queue(queue: int, fires: bool) -> None:
    # netstat prints Send-Q 0 on a LISTEN socket: the limit is unknown, not zero
    listener = sock("0.0.0.0", 8080, "java", tool=Tool.NETSTAT, recv_q=queue, send_q=0)
    assert listener.backlog_limit is None
    findings = evaluate(snapshot("legacy1", listener), BACKLOG)
    assert len(findings) == int(fires)
    if fires:
        assert (
            f"accept queue {queue}, its backlog limit unknown with this tool" in findings[0].message
        )


def test_a_small_queue_from_netstat_is_not_judged_against_a_zero_limit() -> None:
    listener = sock("0.0.0.0", 8080, "java", tool=Tool.NETSTAT, recv_q=3, send_q=0)
    assert evaluate(snapshot("legacy1", listener), BACKLOG) == []


def test_non_listening_sockets_are_the_queue_rules_business() -> None:
    busy = sock("10.0.0.5", 8080, "java", state=SocketState.ESTABLISHED, recv_q=500, send_q=0)
    assert evaluate(snapshot("app1", busy), BACKLOG) == []
