"""The shipped default policy: loads, is packaged verbatim, and judges typical hosts sanely."""

from pathlib import Path

import pytest

from fleetaudit.model import Finding, Privilege, Proto, Severity, Socket, SocketState, Tool
from fleetaudit.policy import DEFAULT_POLICY_SOURCE, evaluate, load_default_policy, load_policy
from tests.factories import snapshot, sock
from tests.policy.builders import connected, unknown_owner

ROOT = Path(__file__).resolve().parents[2]
DEFAULT = load_default_policy()


def udp(address: str, port: int, process: str, interface: str | None = None) -> Socket:
    return sock(
        address,
        port,
        process,
        proto=Proto.UDP,
        state=SocketState.UNCONN,
        send_q=0,
        interface=interface,
    )


def ids(findings: list[Finding]) -> list[str]:
    return [f.rule_id for f in findings]


# An ordinary Ubuntu server: ssh, the stub resolver, DHCP, chrony, local mail, node exporter.
ORDINARY = (
    udp("127.0.0.53", 53, "systemd-resolve", interface="lo"),
    udp("10.20.1.11", 68, "systemd-network", interface="eth0"),
    udp("127.0.0.1", 323, "chronyd"),
    udp("::1", 323, "chronyd"),
    sock("127.0.0.53", 53, "systemd-resolve", interface="lo", send_q=4096),
    sock("0.0.0.0", 22, "sshd"),
    sock("::", 22, "sshd"),
    sock("127.0.0.1", 25, "master", send_q=100),
    sock("127.0.0.1", 9100, "node_exporter", send_q=4096),
    connected("10.20.1.11", 22, "10.20.9.5", 51514, "sshd"),
)


def test_packaged_copy_is_identical_to_the_policies_directory() -> None:
    shipped = (ROOT / "fleetaudit" / "data" / "default.yaml").read_bytes()
    assert shipped == (ROOT / "policies" / "default.yaml").read_bytes()


def test_default_loads_from_both_places_with_the_same_rules() -> None:
    from_file = load_policy(ROOT / "policies" / "default.yaml")
    assert DEFAULT.source == DEFAULT_POLICY_SOURCE
    assert DEFAULT.name == from_file.name == "default"
    assert DEFAULT.rules == from_file.rules
    kinds = {rule.kind for rule in DEFAULT.rules}
    assert kinds == {"bind-scope", "allowlist", "backlog", "queue", "forbidden", "coverage"}


def test_every_default_rule_explains_itself() -> None:
    for rule in DEFAULT.rules:
        assert len(rule.description) > 20, rule.id


def test_an_ordinary_server_has_no_findings() -> None:
    assert evaluate(snapshot("plain1", *ORDINARY), DEFAULT) == []


def test_ordinary_servers_in_web_and_db_groups_pass_the_closed_world() -> None:
    web = snapshot(
        "web1", *ORDINARY, sock("0.0.0.0", 80, "nginx"), sock("::", 443, "nginx"), groups=("web",)
    )
    db = snapshot("db1", *ORDINARY, sock("10.20.2.21", 3306, "mysqld"), groups=("db",))
    assert evaluate(web, DEFAULT) == []
    assert evaluate(db, DEFAULT) == []


def test_mysqld_on_any_address_is_high_on_every_kind_of_host() -> None:
    exposed = sock("0.0.0.0", 3306, "mysqld")
    plain = evaluate(snapshot("app9", *ORDINARY, exposed), DEFAULT)
    db = evaluate(snapshot("db1", *ORDINARY, exposed, groups=("db",)), DEFAULT)
    assert ids(plain) == ["mysql-loopback"]
    assert ids(db) == ["datastores-private-on-db-hosts"]
    assert {f.severity for f in plain + db} == {Severity.HIGH}
    assert "bind-address=127.0.0.1" in plain[0].message


def test_unexpected_listener_on_a_web_host_is_reported_once_under_web_allowlist() -> None:
    web = snapshot("web2", *ORDINARY, sock("0.0.0.0", 8080, "java"), groups=("web", "db"))
    [finding] = evaluate(web, DEFAULT)
    assert finding.rule_id == "web-allowlist"
    assert "'web-allowlist', 'db-allowlist', 'base-allowlist'" in finding.message


def test_legacy_netstat_host_with_telnet_and_rpcbind() -> None:
    legacy = snapshot(
        "legacy1",
        sock("0.0.0.0", 22, "sshd", tool=Tool.NETSTAT, send_q=0),
        sock("0.0.0.0", 111, "rpcbind", tool=Tool.NETSTAT, send_q=0),
        sock("0.0.0.0", 23, "inetd", tool=Tool.NETSTAT, send_q=0),
        tool=Tool.NETSTAT,
    )
    assert ids(evaluate(legacy, DEFAULT)) == ["no-telnet", "rpcbind-not-exposed"]


def test_unprivileged_cache_host_is_judged_by_port_and_flagged_for_coverage() -> None:
    cache = snapshot(
        "cache1",
        unknown_owner("0.0.0.0", 22),
        unknown_owner("127.0.0.1", 6379),
        unknown_owner("0.0.0.0", 11211),
        privilege=Privilege.UNPRIVILEGED,
    )
    findings = evaluate(cache, DEFAULT)
    assert ids(findings) == ["memcached-loopback", "audit-coverage"]
    assert [f.severity for f in findings] == [Severity.HIGH, Severity.MEDIUM]


def test_backlogged_app_host() -> None:
    app = snapshot(
        "app1",
        *ORDINARY,
        sock("*", 8080, "java", recv_q=129, send_q=128),
        connected("10.20.3.31", 8080, "10.20.1.11", 55120, recv_q=4194304),
    )
    findings = evaluate(app, DEFAULT)
    assert ids(findings) == ["listen-backlog", "socket-queues"]
    assert "accept queue 129/128" in findings[0].message


def test_a_data_store_published_by_a_container_is_judged_as_the_data_store() -> None:
    """`docker run -p 6379:6379 redis` listens as docker-proxy on 0.0.0.0:6379: no rule saw
    it on a root audit, while the same listing without root was flagged by port (QA)."""
    published = snapshot(
        "app2",
        sock("0.0.0.0", 6379, "docker-proxy"),
        sock("::", 5432, "docker-proxy"),
        sock("127.0.0.1", 3306, "docker-proxy"),  # published on loopback only: fine
    )
    found = [(f.rule_id, f.socket.local_port) for f in evaluate(published, DEFAULT) if f.socket]
    assert found == [("postgres-loopback", 5432), ("redis-loopback", 6379)]


@pytest.mark.parametrize(
    "forwarder",
    ["docker-proxy", "rootlessport", "rootlesskit", "pasta", "pasta.avx2", "slirp4netns"],
)
def test_every_container_port_forwarder_counts_as_the_data_store(forwarder: str) -> None:
    """Rootless Docker and Podman forward published ports with rootlesskit, pasta or
    slirp4netns: a MySQL published on 0.0.0.0 by one of them passed (QA)."""
    app = snapshot("app4", sock("0.0.0.0", 3306, forwarder))
    assert ids(evaluate(app, DEFAULT)) == ["mysql-loopback"]
    # on a database host: the private network is fine, and its allowlist expects it there
    db = snapshot("db4", sock("10.0.0.5", 5432, forwarder), groups=("db",))
    assert evaluate(db, DEFAULT) == []


def test_snmp_and_rpcbind_on_every_address_are_reported_without_failing_the_run() -> None:
    host = snapshot(
        "app3",
        sock("0.0.0.0", 161, "snmpd", proto=Proto.UDP, state=SocketState.UNCONN),
        sock("10.1.2.3", 161, "snmpd", proto=Proto.UDP, state=SocketState.UNCONN),
        sock("0.0.0.0", 111, "rpcbind"),
        sock("127.0.0.1", 111, "rpcbind"),
        sock("fe80::1", 111, "rpcbind", interface="eth0"),  # link-local: not exposed
    )
    findings = evaluate(host, DEFAULT)
    assert [(f.rule_id, f.socket.endpoint) for f in findings if f.socket] == [
        ("rpcbind-not-exposed", "0.0.0.0:111"),
        ("snmp-not-exposed", "0.0.0.0:161"),
    ]
    assert {f.severity for f in findings} == {Severity.MEDIUM}
