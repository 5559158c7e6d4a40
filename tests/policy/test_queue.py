"""queue: Recv-Q means the program is not reading, Send-Q that the peer is not taking data."""

from fleetaudit.model import Proto, SocketState
from fleetaudit.model.host import socket_key
from fleetaudit.policy import evaluate
from tests.factories import snapshot, sock
from tests.policy.builders import connected, policy

QUEUES = policy(
    """
    version: 1
    rules:
      - {id: queues, kind: queue, severity: low, description: queues pile up,
         recv_bytes: 1048576, send_bytes: 4194304}
    """
)


def test_recv_queue_over_threshold_blames_the_program() -> None:
    stuck = connected("10.20.3.31", 8080, "10.20.1.11", 55120, recv_q=4194304)
    [finding] = evaluate(snapshot("app1", stuck), QUEUES)
    assert "Recv-Q 4194304 bytes (threshold 1048576)" in finding.message
    assert "program is not reading" in finding.message
    assert "10.20.3.31:8080/tcp <-> 10.20.1.11:55120 (ESTABLISHED)" in finding.message


def test_send_queue_over_threshold_blames_the_peer_or_network() -> None:
    slow = connected(send_q=4194304)
    [finding] = evaluate(snapshot("app1", slow), QUEUES)
    assert "Send-Q 4194304 bytes" in finding.message
    assert "peer or the network" in finding.message


def test_queues_below_thresholds_are_fine() -> None:
    fine = connected(recv_q=1048575, send_q=4194303)
    assert evaluate(snapshot("app1", fine), QUEUES) == []


def test_both_queues_full_give_two_findings_with_distinct_fingerprints() -> None:
    both = connected(recv_q=2_000_000, send_q=5_000_000)
    recv, send = evaluate(snapshot("app1", both), QUEUES)
    assert "Recv-Q" in recv.message and "Send-Q" in send.message
    assert recv.fingerprint != send.fingerprint


def test_connections_on_one_local_port_are_told_apart_by_peer() -> None:
    one = connected(peer_port=50001, recv_q=2_000_000)
    two = connected(peer_port=50002, recv_q=2_000_000)
    first, second = evaluate(snapshot("app1", one, two), QUEUES)
    assert first.fingerprint != second.fingerprint


def test_close_wait_sockets_are_judged_like_any_connection() -> None:
    leak = connected(state=SocketState.CLOSE_WAIT, recv_q=2_000_000)
    assert len(evaluate(snapshot("app1", leak), QUEUES)) == 1


def test_listen_sockets_are_left_to_the_backlog_rule() -> None:
    # on a LISTEN socket ss prints the backlog limit as Send-Q: normal, not a slow peer
    listener = sock("0.0.0.0", 80, "nginx", recv_q=0, send_q=5_000_000)
    assert evaluate(snapshot("web1", listener), QUEUES) == []


def test_udp_recv_buffer_counts_but_udp_send_q_does_not() -> None:
    udp_in = sock(
        "0.0.0.0",
        514,
        "rsyslogd",
        proto=Proto.UDP,
        state=SocketState.UNCONN,
        recv_q=2_000_000,
        send_q=0,
    )
    udp_out = connected(proto=Proto.UDP, send_q=9_000_000)
    [finding] = evaluate(snapshot("log1", udp_in, udp_out), QUEUES)
    assert "rsyslogd" in finding.message and "Recv-Q" in finding.message


def test_only_a_queue_over_its_threshold_in_every_sample_is_a_finding() -> None:
    # --samples 3: a queue that drained by the last sample, or only filled in it, is a
    # passing burst; one that stayed full in all three is a stuck program.
    full, drained = 2_000_000, 10
    stayed = connected(peer_port=50001, recv_q=full)
    cleared = connected(peer_port=50002, recv_q=drained)
    burst = connected(peer_port=50003, recv_q=full)
    history = {
        socket_key(stayed): ((full, 0), (full, 0)),
        socket_key(cleared): ((full, 0), (full, 0)),
        socket_key(burst): (None, (full, 0)),
    }
    host = snapshot("app1", stayed, cleared, burst, samples=3, queue_history=history)
    [finding] = evaluate(host, QUEUES)
    assert "<-> 10.0.0.9:50001 (ESTABLISHED)" in finding.message
    assert "in all 3 samples (2000000, 2000000, 2000000 bytes)" in finding.message
