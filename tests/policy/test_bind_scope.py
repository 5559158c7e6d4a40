"""bind-scope: data stores listening beyond loopback are findings, loopback forms are not."""

import pytest

from fleetaudit.model import Privilege, Proto, Severity, SocketState, Tool
from fleetaudit.policy import evaluate
from tests.captures import sockets
from tests.factories import snapshot, sock
from tests.policy.builders import policy, unknown_owner

MYSQL = policy(
    """
    version: 1
    rules:
      - id: db-loopback
        kind: bind-scope
        severity: high
        description: databases listen on loopback only
        fix: set bind-address=127.0.0.1 in my.cnf
        match: {process: [mysqld, mariadbd], port: 3306}
        allow: [loopback]
    """
)


def test_mysqld_on_any_address_is_a_high_finding_saying_what_why_and_fix() -> None:
    [finding] = evaluate(snapshot("db1", sock("0.0.0.0", 3306, "mysqld")), MYSQL)
    assert finding.rule_id == "db-loopback"
    assert finding.severity is Severity.HIGH
    assert finding.host == "db1"
    assert "mysqld listens on 0.0.0.0:3306/tcp (any address)" in finding.message
    assert "outside what the rule allows (loopback)" in finding.message
    assert "bind-address=127.0.0.1" in finding.message
    assert finding.socket is not None and finding.socket.local_port == 3306


@pytest.mark.parametrize(
    ("address", "interface"),
    [("127.0.0.1", None), ("::1", None), ("::ffff:127.0.0.1", None), ("127.0.0.53", "lo")],
)
def test_loopback_forms_are_allowed(address: str, interface: str | None) -> None:
    listener = sock(address, 3306, "mysqld", interface=interface)
    assert evaluate(snapshot("db1", listener), MYSQL) == []


@pytest.mark.parametrize("address", ["::", "*", "10.1.2.3", "203.0.113.7"])
def test_wildcards_private_and_public_addresses_are_findings(address: str) -> None:
    assert len(evaluate(snapshot("db1", sock(address, 3306, "mariadbd")), MYSQL)) == 1


def test_other_processes_and_ports_are_not_this_rules_business() -> None:
    host = snapshot("db1", sock("0.0.0.0", 3306, "nginx"), sock("0.0.0.0", 3307, "mysqld"))
    assert evaluate(host, MYSQL) == []


def test_owner_unknown_on_the_rules_port_is_judged_by_port_and_says_so() -> None:
    host = snapshot("db1", unknown_owner("0.0.0.0", 3306), privilege=Privilege.UNPRIVILEGED)
    [finding] = evaluate(host, MYSQL)
    assert "a process nobody could name listens on 0.0.0.0:" in finding.message
    assert "owner unknown: audited without privilege" in finding.message
    assert "judged by port alone" in finding.message


def test_owner_unknown_without_a_port_matcher_is_undecided_not_a_match() -> None:
    by_name = policy(
        """
        version: 1
        rules:
          - {id: r, kind: bind-scope, severity: high, description: d,
             match: {process: mysqld}, allow: [loopback]}
        """
    )
    assert evaluate(snapshot("db1", unknown_owner("0.0.0.0", 3306)), by_name) == []


def test_only_listeners_are_judged() -> None:
    established = sock("0.0.0.0", 3306, "mysqld", state=SocketState.ESTABLISHED)
    assert evaluate(snapshot("db1", established), MYSQL) == []


def test_ipv6_wildcard_accepting_ipv4_says_both_families() -> None:
    rule = policy(
        """
        version: 1
        rules:
          - {id: r, kind: bind-scope, severity: high, description: d,
             match: {port: 8080}, allow: [loopback]}
        """
    )
    from fleetaudit.model import Family, RawSocket, Socket, Tool

    dual = Socket.from_raw(
        RawSocket(
            Tool.SS,
            Proto.TCP,
            Family.IPV6,
            SocketState.LISTEN,
            0,
            128,
            "::",
            8080,
            None,
            "::",
            None,
            (),
            True,
            v6only=False,
        )
    )
    [finding] = evaluate(snapshot("h", dual), rule)
    assert "(any address, IPv6 and IPv4)" in finding.message


@pytest.mark.parametrize(
    ("allow", "address", "interface", "expected"),
    [
        ("[10.20.0.0/16]", "10.20.1.5", None, 0),
        ("[10.20.0.0/16]", "10.21.1.5", None, 1),
        ("[10.20.0.0/16]", "::ffff:10.20.1.5", None, 0),
        ("[10.20.0.0/16]", "0.0.0.0", None, 1),
        ("['0.0.0.0/0']", "*", None, 0),
        # a wildcard is every address: only a /0 holds it, not a CIDR holding 0.0.0.0 (QA)
        ("['0.0.0.0/1']", "0.0.0.0", None, 1),
        ("['0.0.0.0/8']", "0.0.0.0", None, 1),
        ("['::/8']", "::", None, 1),
        ("['0.0.0.0/1']", "::ffff:0.0.0.0", None, 1),
        ("['0.0.0.0/0']", "0.0.0.0", None, 0),
        ("['::/0']", "::", None, 0),
        ("['fd00::/8']", "fd00::5", None, 0),
        ("[{interface: eth1}]", "10.9.9.9", "eth1", 0),
        ("[{interface: eth1}]", "10.9.9.9", "eth0", 1),
        ("[private, link-local]", "169.254.1.1", None, 0),
        ("[private]", "8.8.8.8", None, 1),
        # a listing taken without -n: localhost is its family's loopback address
        ("[127.0.0.0/8]", "localhost", None, 0),
        ("['127.0.0.1/32']", "localhost", None, 0),
        ("[10.0.0.0/8]", "localhost", None, 1),
        ("[127.0.0.0/8]", "db1.example.com", None, 1),  # any other name: not checkable
    ],
)
def test_allow_accepts_scopes_cidrs_and_interfaces(
    allow: str, address: str, interface: str | None, expected: int
) -> None:
    rule = policy(
        f"""
        version: 1
        rules:
          - {{id: r, kind: bind-scope, severity: high, description: d,
             match: {{port: 9000}}, allow: {allow}}}
        """
    )
    host = snapshot("h", sock(address, 9000, "svc", interface=interface))
    assert len(evaluate(host, rule)) == expected


def test_udp_unconnected_listeners_are_judged_too() -> None:
    rule = policy(
        """
        version: 1
        rules:
          - {id: r, kind: bind-scope, severity: high, description: d,
             match: {process: memcached, port: 11211}, allow: [loopback]}
        """
    )
    udp = sock("0.0.0.0", 11211, "memcached", proto=Proto.UDP, state=SocketState.UNCONN)
    assert len(evaluate(snapshot("c1", udp), rule)) == 1


@pytest.mark.parametrize(
    ("capture", "tool", "note"),
    [
        ("disc-ss-tuanpe-root", Tool.SS, None),  # ss shows [fe80::97:1]%fa0: allowed
        ("disc-netstat-tuanpeW-root", Tool.NETSTAT, "netstat does not show the interface"),
        ("disc-proc-net", Tool.PROC, "proc does not show the interface"),
    ],
)
def test_an_interface_entry_the_listing_cannot_show_is_named_in_the_finding(
    capture: str, tool: Tool, note: str | None
) -> None:
    """A real WS-Discovery listener on link-local fe80::97:1 of interface fa0: netstat and
    /proc/net print no interface, so the rule cannot know it is fa0's (QA)."""
    rule = policy(
        """
        version: 1
        rules:
          - {id: r, kind: bind-scope, severity: high, description: d,
             match: {port: 5357, proto: tcp}, allow: [{interface: fa0}, private]}
        """
    )
    findings = evaluate(snapshot("wsd1", *sockets(capture), tool=tool), rule)
    if note is None:
        assert findings == []
        return
    [finding] = findings
    assert finding.socket is not None and finding.socket.local_address == "fe80::97:1"
    assert f"({note} a socket is bound to: the rule assumed none)" in finding.message
