"""The shipped policies judged against real captures."""

from __future__ import annotations

from datetime import date
from importlib import resources
from pathlib import Path

from fleetaudit.model.host import HostSnapshot
from fleetaudit.model.socket import Socket
from fleetaudit.parse import parse_capture
from fleetaudit.policy import evaluate, load_policy
from tests.factories import snapshot

POLICIES = Path(__file__).parents[2] / "policies"
FIXTURES = Path(__file__).parents[1] / "fixtures" / "captures"
DEMO = Path(str(resources.files("fleetaudit").joinpath("data", "demo")))
TODAY = date(2026, 11, 24)


def host(name: str, capture: Path, *groups: str) -> HostSnapshot:
    _, result = parse_capture(capture.read_text(), privileged=True)
    return snapshot(name, *(Socket.from_raw(raw) for raw in result.sockets), groups=groups)


def test_shipped_default_is_the_packaged_one() -> None:
    packaged = resources.files("fleetaudit").joinpath("data", "default.yaml").read_text()
    assert (POLICIES / "default.yaml").read_text() == packaged


def test_db_tier_flags_mysqld_on_every_address_as_critical() -> None:
    policy = load_policy(POLICIES / "db-tier.yaml")
    findings = evaluate(host("db1", DEMO / "db1.ss.txt", "db"), policy, TODAY)
    [exposed] = [f for f in findings if f.rule_id == "datastores-private-on-db-hosts"]
    assert exposed.severity.value == "critical" and exposed.socket is not None
    assert exposed.socket.endpoint == "0.0.0.0:3306"
    assert not [f for f in findings if f.rule_id == "db-allowlist"]


def test_cis_closed_world_names_every_unapproved_listener() -> None:
    policy = load_policy(POLICIES / "cis-approved-services.yaml")
    findings = evaluate(host("app9", FIXTURES / "ss-tuanpe-root.txt", "app"), policy, TODAY)
    unexpected = {
        (f.socket.local_port, f.socket.proto.value)
        for f in findings
        if f.rule_id == "app-approved" and f.socket is not None
    }
    # Approved: 8080/8443 (python3 in 8000-8999 on app hosts) and every loopback listener.
    assert unexpected == {(9000, "tcp"), (5432, "tcp"), (6000, "tcp"), (5353, "udp")}
    assert all(f.severity.value == "high" for f in findings if f.rule_id == "app-approved")
    assert all("unexpected listener" in f.message for f in findings if f.rule_id == "app-approved")


def test_cis_forbids_clear_text_services_everywhere() -> None:
    policy = load_policy(POLICIES / "cis-approved-services.yaml")
    findings = evaluate(host("legacy1", DEMO / "legacy1.netstat.txt"), policy, TODAY)
    [telnet] = [f for f in findings if f.rule_id == "no-clear-text-services"]
    assert telnet.severity.value == "critical" and "inetd" in telnet.message
