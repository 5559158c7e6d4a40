"""SARIF as GitHub code scanning reads it: locations it accepts (no custom URI scheme),
hosts not audited as open alerts instead of silently "fixed" ones, expired waivers said."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote, urlsplit

from fleetaudit.model.enums import HostStatus, Proto
from fleetaudit.model.host import HostSnapshot
from fleetaudit.model.run import RunResult
from fleetaudit.report import OutputFormat
from fleetaudit.report.sarif import HOSTS_BASE_ID, NOT_AUDITED_RULE
from tests.factories import snapshot, sock
from tests.report.fleet_runs import judged_run
from tests.report.test_sarif_schema import WAIVERS, pipeline_run, schema_errors


def render(run: RunResult) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(OutputFormat.SARIF.formatter().render(run))
    return document


def sarif_run(document: dict[str, Any]) -> dict[str, Any]:
    [only] = document["runs"]
    return dict(only)


def artifact_locations(document: dict[str, Any]) -> list[dict[str, Any]]:
    """Every artifactLocation of results and notifications."""
    run = sarif_run(document)
    holders = list(run["results"])
    for invocation in run["invocations"]:
        holders += invocation["toolExecutionNotifications"]
    return [
        location["physicalLocation"]["artifactLocation"]
        for holder in holders
        for location in holder.get("locations", [])
    ]


def down(host: str, status: HostStatus = HostStatus.UNREACHABLE) -> HostSnapshot:
    return snapshot(host, status=status, error=f"{status.value} <b>", tool=None, privilege=None)


def test_no_location_uses_a_uri_scheme_code_scanning_refuses() -> None:
    """upload-sarif rejects the whole file when a URI's scheme is not the checkout's: every
    host is a scheme-less relative URI against a base id the run declares."""
    document = render(pipeline_run())
    locations = artifact_locations(document)
    assert len(locations) >= 10
    declared = sarif_run(document)["originalUriBaseIds"]
    for artifact in locations:
        parts = urlsplit(artifact["uri"])
        assert parts.scheme == "" and parts.netloc == "", artifact
        assert not artifact["uri"].startswith("/")
        assert artifact["uriBaseId"] == HOSTS_BASE_ID
    assert set(declared) == {HOSTS_BASE_ID}
    assert "uri" not in declared[HOSTS_BASE_ID]  # hosts have no file-system base
    assert not schema_errors(document)


def test_locations_still_name_the_host_and_the_listener() -> None:
    document = render(pipeline_run())
    results = [r for r in sarif_run(document)["results"] if r["ruleId"] == "no-telnet"]
    [telnet] = results
    [location] = telnet["locations"]
    assert location["physicalLocation"]["artifactLocation"]["uri"] == "hosts/web1"
    [logical] = location["logicalLocations"]
    assert logical == {"fullyQualifiedName": "web1/tcp/0.0.0.0:23", "kind": "resource"}


def test_a_host_name_with_uri_delimiters_is_percent_encoded_and_valid() -> None:
    odd = "web#1?x y"
    run = judged_run(snapshot(odd, sock("0.0.0.0", 23, "telnetd")))
    document = render(run)
    uris = {a["uri"] for a in artifact_locations(document)}
    assert uris == {"hosts/web%231%3Fx%20y"}
    assert {unquote(u.removeprefix("hosts/")) for u in uris} == {odd}
    assert not schema_errors(document)


def test_each_host_not_audited_is_an_open_error_result_of_its_own_rule() -> None:
    document = render(pipeline_run())
    run = sarif_run(document)
    rules = run["tool"]["driver"]["rules"]
    missing = [r for r in run["results"] if r["ruleId"] == NOT_AUDITED_RULE]
    assert sorted(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                  for r in missing) == ["hosts/down1", "hosts/odd1"]  # fmt: skip
    for result in missing:
        assert result["level"] == "error"
        assert "suppressions" not in result
        assert rules[result["ruleIndex"]]["id"] == NOT_AUDITED_RULE
        assert "was not audited" in result["message"]["text"]
    assert rules[-1]["defaultConfiguration"]["level"] == "error"
    assert float(rules[-1]["properties"]["security-severity"]) >= 7.0  # "high" on GitHub
    assert not schema_errors(document)


def test_a_host_that_stays_down_keeps_one_alert_whatever_the_reason() -> None:
    """The fingerprint of a "not audited" result depends on the host only: a host that
    times out one night and is unreachable the next keeps the same open alert."""

    def prints(*hosts: HostSnapshot) -> dict[str, str]:
        run = judged_run(snapshot("web1", sock("0.0.0.0", 22, "sshd")), *hosts)
        return {
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]: r[
                "partialFingerprints"
            ]["fleetaudit/v1"]
            for r in sarif_run(render(run))["results"]
            if r["ruleId"] == NOT_AUDITED_RULE
        }

    first = prints(down("db1", HostStatus.TIMEOUT), down("db2"))
    second = prints(down("db1", HostStatus.UNREACHABLE), down("db2", HostStatus.AUTH_FAILED))
    assert first == second
    assert len(set(first.values())) == 2


def test_a_fleet_of_only_unreachable_hosts_is_not_an_empty_clean_analysis() -> None:
    run = judged_run(down("db1"), down("db2", HostStatus.TIMEOUT))
    document = render(run)
    results = sarif_run(document)["results"]
    assert [r["ruleId"] for r in results] == [NOT_AUDITED_RULE] * 2
    assert not schema_errors(document)


def test_an_expired_waiver_is_said_in_the_message_and_suppresses_nothing() -> None:
    run = judged_run(
        snapshot("web1", sock("0.0.0.0", 3306, "mysqld"), sock("0.0.0.0", 69, "in.tftpd",
                 proto=Proto.UDP), groups=("web",)),
        policy_extra=WAIVERS,
    )  # fmt: skip
    results = {r["ruleId"]: r for r in sarif_run(render(run))["results"]}
    expired = results["mysql-loopback"]
    assert expired["message"]["text"].startswith("[waiver expired 2020-01-01: expired long ago] ")
    assert "suppressions" not in expired
    waived = results["no-tftp"]
    assert not waived["message"]["text"].startswith("[waiver")
    assert waived["suppressions"][0]["status"] == "accepted"
