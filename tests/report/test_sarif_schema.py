"""SARIF output against the official OASIS SARIF 2.1.0 schema (errata 01), plus what a SARIF
consumer (code-scanning dashboards) relies on that the schema alone cannot check."""

from __future__ import annotations

import copy
import json
from datetime import date
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from fleetaudit.model.enums import HostKeyPolicy, HostStatus, Privilege, Proto, Severity
from fleetaudit.model.run import RuleInfo, RunResult, in_report_order
from fleetaudit.policy.engine import evaluate
from fleetaudit.policy.loader import parse_policy
from fleetaudit.report import OutputFormat
from fleetaudit.report.sarif import HOSTS_BASE_ID, NOT_AUDITED_RULE, SCHEMA_URI
from tests.factories import finding, run_result, snapshot, sock

SCHEMA_FILE = Path(__file__).parent.parent / "fixtures" / "sarif" / "sarif-schema-2.1.0.json"
EVIL = "\x1b[31mevil|`<script>x</script>*_\u202e\"'\\"
TODAY = date(2026, 11, 24)
LEVEL = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFO: "note",
}
# The built-in policy plus two waivers: one that holds and one that has expired.
WAIVERS = """
waivers:
  - rule: no-tftp
    select: {hosts: [web1]}
    reason: "PXE boot server <b>until</b> the rebuild \\e[31m"
    expires: 2999-01-01
    ticket: SEC-1
  - rule: mysql-loopback
    reason: expired long ago
    expires: 2020-01-01
"""


@cache
def schema() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(SCHEMA_FILE.read_text("utf-8"))
    return loaded


def validator() -> jsonschema.Draft7Validator:
    return jsonschema.Draft7Validator(schema(), format_checker=jsonschema.FormatChecker())


def schema_errors(document: object) -> list[str]:
    errors = sorted(validator().iter_errors(document), key=lambda e: list(e.absolute_path))
    return [f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}" for e in errors]


def pipeline_run() -> RunResult:
    """A run as the auditor builds it: the built-in policy judges real snapshots (hostile
    process names, an unprivileged host, a host-key-less host, a host that could not be
    audited), waivers applied, findings in report order, rule metadata from the policy."""
    default = resources.files("fleetaudit").joinpath("data/default.yaml").read_text("utf-8")
    policy = parse_policy(default + WAIVERS, "default+waivers.yaml")
    web1 = snapshot(
        "web1",
        sock("0.0.0.0", 22, "sshd"),
        sock("0.0.0.0", 23, EVIL),  # no-telnet, and not in the web allowlist
        sock("0.0.0.0", 3306, "mysqld"),  # mysql-loopback, its waiver expired
        sock("0.0.0.0", 69, "in.tftpd", proto=Proto.UDP),  # no-tftp, waived
        sock("0.0.0.0", 80, "nginx", recv_q=128, send_q=128),  # full accept queue
        groups=("web",),
    )
    app1 = snapshot(
        "app1",
        sock("0.0.0.0", 8080, None, owner_known=False),
        privilege=Privilege.UNPRIVILEGED,
        privilege_note=f"sudo said: {EVIL}",
        host_key_checked=False,
    )
    down1 = snapshot(
        "down1", status=HostStatus.UNREACHABLE, error="refused <b>", tool=None, privilege=None
    )
    failed = snapshot(
        "odd1", status=HostStatus.COMMAND_FAILED, error=EVIL, tool=None, privilege=None
    )
    snapshots = (web1, app1, down1, failed)
    findings = [f for s in snapshots for f in evaluate(s, policy, TODAY)]
    hosts, ordered = in_report_order(snapshots, findings)
    rules = tuple(RuleInfo.model_validate(rule, from_attributes=True) for rule in policy.rules)
    return run_result(hosts, ordered, rules=rules, host_key_policy=HostKeyPolicy.INSECURE)


def render(run: RunResult) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(OutputFormat.SARIF.formatter().render(run))
    return document


def results_of(document: dict[str, Any]) -> list[dict[str, Any]]:
    [sarif_run] = document["runs"]
    results: list[dict[str, Any]] = sarif_run["results"]
    return results


def finding_results(document: dict[str, Any]) -> list[dict[str, Any]]:
    """The results that stand for findings (not the "host not audited" ones)."""
    return [r for r in results_of(document) if r["ruleId"] != NOT_AUDITED_RULE]


def host_of(result: dict[str, Any]) -> str:
    """The host a result's physical location names (``hosts/HOST`` against the base id)."""
    [location] = result["locations"]
    artifact = location["physicalLocation"]["artifactLocation"]
    assert artifact["uriBaseId"] == HOSTS_BASE_ID
    uri: str = artifact["uri"]
    assert uri.startswith("hosts/")
    return uri.removeprefix("hosts/")


def test_vendored_schema_is_the_oasis_sarif_2_1_0_schema() -> None:
    loaded = schema()
    jsonschema.Draft7Validator.check_schema(loaded)
    assert loaded["title"] == "Static Analysis Results Format (SARIF) Version 2.1.0 JSON Schema"
    assert loaded["id"] == (
        "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
    )
    assert loaded["properties"]["version"]["enum"] == ["2.1.0"]


def test_the_pipeline_run_covers_what_it_should() -> None:
    run = pipeline_run()
    rule_ids = {f.rule_id for f in run.findings}
    assert {"no-telnet", "mysql-loopback", "no-tftp", "listen-backlog", "audit-coverage"} <= (
        rule_ids
    )
    assert {f.severity for f in run.findings} >= {Severity.HIGH, Severity.MEDIUM}
    assert [f.rule_id for f in run.findings if f.waived] == ["no-tftp"]
    assert any(f.waiver is not None and f.waiver.expired for f in run.findings)
    assert any(f.socket is None for f in run.findings)  # host-level findings
    assert {s.host for s in run.failed_hosts} == {"down1", "odd1"}


def test_sarif_from_the_pipeline_validates_against_the_official_schema() -> None:
    document = render(pipeline_run())
    errors = schema_errors(document)
    assert not errors, "SARIF does not validate:\n" + "\n".join(errors)


def test_sarif_from_the_factory_run_and_an_empty_run_validate() -> None:
    bad = sock("0.0.0.0", 23, EVIL)
    runs = (
        run_result((snapshot("web1", bad),), (finding("web1", bad),)),  # rule not in run.rules
        run_result((snapshot("down1", status=HostStatus.TIMEOUT, tool=None, privilege=None),)),
    )
    for run in runs:
        errors = schema_errors(render(run))
        assert not errors, "SARIF does not validate:\n" + "\n".join(errors)


def test_the_validation_is_live_it_rejects_broken_documents() -> None:
    good = render(pipeline_run())
    assert not schema_errors(good)

    wrong_version = copy.deepcopy(good) | {"version": "2.0.0"}
    assert any("version" in e for e in schema_errors(wrong_version))

    no_message = copy.deepcopy(good)
    del results_of(no_message)[0]["message"]
    assert any("'message' is a required property" in e for e in schema_errors(no_message))

    bad_level = copy.deepcopy(good)
    results_of(bad_level)[0]["level"] = "high"
    assert any("'high' is not one of" in e for e in schema_errors(bad_level))

    stray = copy.deepcopy(good)
    results_of(stray)[0]["severity"] = "high"  # results are closed: extras go in properties
    assert any("Additional properties" in e for e in schema_errors(stray))

    no_driver_name = copy.deepcopy(good)
    del no_driver_name["runs"][0]["tool"]["driver"]["name"]
    assert any("'name' is a required property" in e for e in schema_errors(no_driver_name))


def test_document_declares_the_schema_it_is_validated_against() -> None:
    document = render(pipeline_run())
    assert document["version"] == "2.1.0"
    assert document["$schema"] == SCHEMA_URI == schema()["id"]


def test_one_result_per_finding_in_order_with_the_finding_identity() -> None:
    run = pipeline_run()
    results = finding_results(render(run))
    assert len(results) == len(run.findings)
    for result, found in zip(results, run.findings, strict=True):
        assert result["ruleId"] == found.rule_id
        assert result["message"]["text"] == found.expired_waiver_note + found.message
        assert result["partialFingerprints"] == {"fleetaudit/v1": found.fingerprint}
        assert host_of(result) == found.host


def test_level_maps_severity() -> None:
    run = pipeline_run()
    results = finding_results(render(run))
    for result, found in zip(results, run.findings, strict=True):
        assert result["level"] == LEVEL[found.severity], found.rule_id
        assert result["properties"]["severity"] == found.severity.value


@pytest.mark.parametrize("severity", list(Severity))
def test_every_severity_has_its_level_on_results_and_rules(severity: Severity) -> None:
    bad = sock("0.0.0.0", 23, "telnetd")
    rule = RuleInfo(id="test-rule", kind="forbidden", severity=severity, description="d")
    run = run_result((snapshot("web1", bad),), (finding("web1", bad, severity),), rules=(rule,))
    document = render(run)
    [result] = results_of(document)
    [sarif_rule, _not_audited] = document["runs"][0]["tool"]["driver"]["rules"]
    assert result["level"] == LEVEL[severity]
    assert sarif_rule["defaultConfiguration"]["level"] == LEVEL[severity]
    assert not schema_errors(document)


def test_every_result_points_at_its_rule() -> None:
    run = pipeline_run()
    document = render(run)
    rules = document["runs"][0]["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == [r.id for r in run.rules] + [NOT_AUDITED_RULE]
    assert len({r["id"] for r in rules}) == len(rules)
    for result in results_of(document):
        index = result["ruleIndex"]
        assert 0 <= index < len(rules)
        assert rules[index]["id"] == result["ruleId"]


def test_rule_metadata_comes_from_the_policy() -> None:
    run = pipeline_run()
    rules = render(run)["runs"][0]["tool"]["driver"]["rules"]
    for sarif_rule, info in zip(rules[:-1], run.rules, strict=True):
        assert sarif_rule["fullDescription"]["text"] == info.description
        assert sarif_rule["defaultConfiguration"]["level"] == LEVEL[info.severity]
        assert ("help" in sarif_rule) == bool(info.fix)
        score = float(sarif_rule["properties"]["security-severity"])
        assert 0.0 < score <= 10.0  # the range GitHub code scanning reads


def test_partial_fingerprints_are_stable_across_renders_and_distinct_per_finding() -> None:
    first = results_of(render(pipeline_run()))
    second = results_of(render(pipeline_run()))  # a fresh run of the same fleet
    assert [r["partialFingerprints"] for r in first] == [r["partialFingerprints"] for r in second]
    prints = [r["partialFingerprints"]["fleetaudit/v1"] for r in first]
    assert all(prints)
    assert len(set(prints)) == len(prints)  # two findings never share one
    # Even two host-level findings of the same rule on the same host differ.
    coverage = [r for r in first if r["ruleId"] == "audit-coverage"]
    assert len(coverage) == 2
    assert coverage[0]["partialFingerprints"] != coverage[1]["partialFingerprints"]


def test_waivers_become_accepted_suppressions_and_expired_ones_do_not() -> None:
    run = pipeline_run()
    results = finding_results(render(run))
    for result, found in zip(results, run.findings, strict=True):
        if found.waived:
            [suppression] = result["suppressions"]
            assert suppression["kind"] == "external" and suppression["status"] == "accepted"
            assert found.waiver is not None
            assert suppression["justification"] == found.waiver.reason
        else:
            assert "suppressions" not in result, found.rule_id


def test_findings_are_on_audited_hosts_and_each_host_not_audited_has_one_result() -> None:
    results = results_of(render(pipeline_run()))
    assert {host_of(r) for r in finding_results({"runs": [{"results": results}]})} == {
        "web1",
        "app1",
    }
    not_audited = [host_of(r) for r in results if r["ruleId"] == NOT_AUDITED_RULE]
    assert sorted(not_audited) == ["down1", "odd1"]


def test_hostile_text_survives_as_data_and_never_as_control_characters() -> None:
    text = OutputFormat.SARIF.formatter().render(pipeline_run())
    assert "\x1b" not in text and "\u202e" not in text  # JSON escapes them
    document = json.loads(text)
    messages = [r["message"]["text"] for r in results_of(document)]
    assert any(EVIL in m for m in messages)  # the exact process name, losslessly
    assert not schema_errors(document)


def test_hosts_not_audited_make_the_invocation_unsuccessful_and_are_named() -> None:
    document = render(pipeline_run())
    assert not schema_errors(document)
    (invocation,) = document["runs"][0]["invocations"]
    assert invocation["executionSuccessful"] is False
    notes = _notifications(invocation, "host-not-audited")
    assert set(notes) == {"hosts/down1", "hosts/odd1"}
    assert all(n["level"] == "error" and n["message"]["text"] for n in notes.values())


def _notifications(invocation: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    """The invocation's notifications of one kind, by the host URI they name."""
    return {
        n["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]: n
        for n in invocation["toolExecutionNotifications"]
        if n["descriptor"]["id"] == kind
    }


def test_a_host_whose_key_was_not_verified_is_named_in_a_warning() -> None:
    """Without a coverage rule in the policy, nothing in the SARIF upload said that host
    keys were not verified (QA)."""
    (invocation,) = render(pipeline_run())["runs"][0]["invocations"]
    [(uri, note)] = _notifications(invocation, "host-key-not-verified").items()
    assert uri == "hosts/app1" and note["level"] == "warning"
    assert note["message"]["text"].startswith("app1: host key NOT verified")


def test_a_run_that_audited_every_host_is_a_successful_invocation() -> None:
    run = pipeline_run()
    ok = tuple(s for s in run.snapshots if s.status is HostStatus.OK)
    audited = run.model_copy(update={"snapshots": ok})
    (invocation,) = render(audited)["runs"][0]["invocations"]
    assert invocation["executionSuccessful"] is True
    assert _notifications(invocation, "host-not-audited") == {}
