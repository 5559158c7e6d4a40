"""forbidden: clear-text remote shells and friends are findings wherever they listen."""

import pytest

from fleetaudit.model import Proto, SocketState
from fleetaudit.policy import evaluate
from tests.factories import snapshot, sock
from tests.policy.builders import policy, unknown_owner

FORBIDDEN = policy(
    """
    version: 1
    rules:
      - {id: no-telnet, kind: forbidden, severity: high, description: clear text,
         match: {port: 23, proto: tcp}}
      - {id: no-tftp, kind: forbidden, severity: medium, description: no auth,
         match: {port: 69, proto: udp}}
      - {id: no-remote-x11, kind: forbidden, severity: medium, description: X over network,
         match: {port: "6000-6063", proto: tcp, not: {scope: loopback}}}
    """
)


def test_telnet_by_any_process_is_a_finding() -> None:
    [finding] = evaluate(snapshot("legacy1", sock("0.0.0.0", 23, "inetd")), FORBIDDEN)
    assert finding.rule_id == "no-telnet"
    assert "inetd listens on 0.0.0.0:23/tcp" in finding.message


def test_owner_unknown_telnet_is_still_a_finding() -> None:
    assert len(evaluate(snapshot("legacy1", unknown_owner("0.0.0.0", 23)), FORBIDDEN)) == 1


def test_protocol_matters_for_tftp() -> None:
    tftp = sock("0.0.0.0", 69, "in.tftpd", proto=Proto.UDP, state=SocketState.UNCONN)
    tcp_69 = sock("0.0.0.0", 69, "other")
    [finding] = evaluate(snapshot("pxe1", tftp, tcp_69), FORBIDDEN)
    assert finding.rule_id == "no-tftp"


@pytest.mark.parametrize(
    ("address", "port", "fires"),
    [
        ("0.0.0.0", 6000, True),
        ("::", 6063, True),
        ("127.0.0.1", 6010, False),
        ("::1", 6010, False),
        ("0.0.0.0", 6064, False),
    ],
)
def test_x11_is_forbidden_unless_on_loopback(address: str, port: int, fires: bool) -> None:
    assert len(evaluate(snapshot("ws1", sock(address, port, "Xorg")), FORBIDDEN)) == int(fires)
