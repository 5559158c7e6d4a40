"""Every machine format: parseable by its consumer, complete, and safe with hostile text."""

from __future__ import annotations

import csv
import io
import json
import re
import xml.etree.ElementTree as ET
from datetime import date, timedelta
from importlib import resources
from pathlib import Path

import jsonschema
import pytest

from fleetaudit.errors import FleetAuditError
from fleetaudit.model.enums import HostKeyPolicy, HostStatus, Severity
from fleetaudit.model.finding import AppliedWaiver
from fleetaudit.model.run import RuleInfo, RunResult
from fleetaudit.report import OutputFormat
from fleetaudit.report.schema import report_schema
from tests.factories import T0, finding, run_result, snapshot, sock

EVIL = "\x1b[31mevil|`<script>x</script>*_"
RULES = (
    RuleInfo(id="test-rule", kind="forbidden", severity=Severity.HIGH, description="d", fix="f"),
    RuleInfo(id="other", kind="backlog", severity=Severity.LOW, description="o"),
)


def run() -> RunResult:
    bad = sock("0.0.0.0", 23, EVIL)
    formula = sock("0.0.0.0", 24, "=HYPERLINK(1)")
    waived = finding("web1", formula).model_copy(
        update={"waiver": AppliedWaiver(reason="ok", expires=date(2999, 1, 1), expired=False)}
    )
    hosts = (
        snapshot("web1", bad, formula),
        snapshot(
            "down1", status=HostStatus.UNREACHABLE, error="refused <b>", tool=None, privilege=None
        ),
    )
    return run_result(hosts, (finding("web1", bad), waived), rules=RULES)


def render(fmt: OutputFormat) -> str:
    return fmt.formatter().render(run())


def test_json_report_validates_against_the_shipped_schema() -> None:
    shipped = json.loads(
        resources.files("fleetaudit").joinpath("data", "report.schema.json").read_text()
    )
    assert shipped == json.loads(json.dumps(report_schema())), "regenerate the schema file"
    jsonschema.Draft202012Validator.check_schema(shipped)
    jsonschema.validate(json.loads(render(OutputFormat.JSON)), shipped)


def test_an_impossible_ephemeral_range_is_refused_by_the_schema_and_the_reader(
    tmp_path: Path,
) -> None:
    """The collection accepts only ``1 <= low <= high <= 65535``; a report edited by hand
    must not carry another range into a merge or a diff."""
    from fleetaudit.history import load_run_file

    shipped = json.loads(
        resources.files("fleetaudit").joinpath("data", "report.schema.json").read_text()
    )
    document = json.loads(render(OutputFormat.JSON))
    document["hosts"][0]["ephemeral_ports"] = [1024, 65535]
    jsonschema.validate(document, shipped)
    path = tmp_path / "edited.json"
    for impossible in ([70000, 1], [0, 5], [True, 5], ["1024", "2048"], [60999, 32768]):
        document["hosts"][0]["ephemeral_ports"] = impossible
        if impossible != [60999, 32768]:  # the order is the reader's check alone
            with pytest.raises(jsonschema.ValidationError):
                jsonschema.validate(document, shipped)
        path.write_text(json.dumps(document))
        with pytest.raises(FleetAuditError, match=r"hosts\.0\.ephemeral_ports"):
            load_run_file(path)


def test_json_report_is_written_a_host_at_a_time() -> None:
    """A big fleet's report is streamed: no piece holds more than one host, and the pieces
    make the same valid document, also for a run with no hosts at all."""
    hosts = tuple(
        snapshot(f"web{i}", sock(port=22), sock(port=80, process="nginx")) for i in range(40)
    )
    formatter = OutputFormat.JSON.formatter()
    for fleet in (run_result(hosts), run_result(())):
        pieces = list(formatter.pieces(fleet))
        assert "".join(pieces) == formatter.render(fleet)
        document = json.loads("".join(pieces))
        assert [h["host"] for h in document["hosts"]] == [h.host for h in fleet.snapshots]
        assert all(piece.count('"host":') <= 1 for piece in pieces)


def test_jsonl_has_one_object_per_host_and_finding() -> None:
    lines = [json.loads(line) for line in render(OutputFormat.JSONL).splitlines()]
    assert [line["type"] for line in lines] == ["run", "host", "host", "finding", "finding"]
    assert {line["run_id"] for line in lines} == {"20261124T031500Z-abcdef"}
    assert [line["waived"] for line in lines if line["type"] == "finding"] == [False, True]


def test_csv_defuses_formulas_and_keeps_every_finding() -> None:
    rows = list(csv.DictReader(io.StringIO(render(OutputFormat.CSV))))
    assert [row["severity"] for row in rows] == ["not-audited", "high", "high"]
    assert rows[2]["process"].startswith("'=HYPERLINK")
    assert rows[2]["waived"] == "yes"


def test_markdown_escapes_remote_text() -> None:
    text = render(OutputFormat.MARKDOWN)
    assert text.startswith("## fleetaudit: 1 finding; 2 hosts, 1 audited\n")
    assert "\x1b" not in text and "<script>" not in text and "\\|" in text
    assert "### Hosts not audited" in text and "### Waived findings" in text
    for section, columns in (("### Findings", 6), ("### Waived findings", 9)):
        table = text.split(section, 1)[1].split("###", 1)[0]
        table_rows = [line for line in table.splitlines() if line.startswith("| high")]
        assert table_rows and all(line.count(" | ") == columns - 1 for line in table_rows)


def test_sarif_results_rules_and_fingerprints() -> None:
    document = json.loads(render(OutputFormat.SARIF))
    assert document["version"] == "2.1.0"
    [sarif_run] = document["runs"]
    rules = sarif_run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == ["test-rule", "other", "fleetaudit/host-not-audited"]
    assert rules[0]["properties"]["security-severity"] == "8.0"
    results = sarif_run["results"]
    assert [r["level"] for r in results] == ["error", "error", "error"]  # down1: not audited
    assert all(r["partialFingerprints"]["fleetaudit/v1"] for r in results)
    assert [r["ruleIndex"] for r in results] == [0, 0, 2]
    assert "suppressions" not in results[0]
    assert results[1]["suppressions"][0]["justification"] == "ok"


def test_junit_suites_failures_and_errors() -> None:
    root = ET.fromstring(render(OutputFormat.JUNIT).split("\n", 1)[1])  # noqa: S314
    suites = {s.get("name"): s for s in root.iter("testsuite")}
    web, down = suites["web1"], suites["down1"]
    assert [web.get(k) for k in ("tests", "failures", "errors", "skipped")] == ["4", "1", "0", "1"]
    assert [c.get("name") for c in web.iter("testcase")] == [
        "audit", "test-rule tcp/0.0.0.0:23", "test-rule tcp/0.0.0.0:24", "other"
    ]  # fmt: skip
    assert down.get("errors") == "1" and "refused <b>" in down.find("testcase/error").get("message")
    assert "\x1b" not in render(OutputFormat.JUNIT)


def test_prom_metrics_are_well_formed() -> None:
    text = render(OutputFormat.PROM)
    sample = re.compile(r'^[a-z_]+(\{[a-z_]+="[^"\n]*"(,[a-z_]+="[^"\n]*")*\})? [0-9.e+-]+$')
    for line in text.splitlines():
        assert line.startswith("#") or sample.match(line), line
    assert 'fleetaudit_findings{severity="high"} 1' in text  # the waived one does not count
    assert 'fleetaudit_hosts{status="unreachable"} 1' in text
    assert "fleetaudit_run_success 0" in text
    assert "fleetaudit_last_success_timestamp_seconds" not in text


def test_prom_counts_waived_findings_and_expired_waivers() -> None:
    """QA: the JSON and JSONL carried them, the textfile did not, so no alert could watch
    accepted risks pile up or waivers lapse."""
    text = render(OutputFormat.PROM)
    assert 'fleetaudit_waived_findings{severity="high"} 1' in text
    assert 'fleetaudit_waived_findings{severity="low"} 0' in text
    assert "fleetaudit_expired_waiver_findings 0" in text
    lapsed = AppliedWaiver(reason="ok", expires=date(2020, 1, 1), expired=True)
    result = run()
    findings = tuple(f.model_copy(update={"waiver": lapsed}) for f in result.findings)
    text = OutputFormat.PROM.formatter().render(result.model_copy(update={"findings": findings}))
    assert "fleetaudit_expired_waiver_findings 2" in text
    assert 'fleetaudit_waived_findings{severity="high"} 0' in text
    assert 'fleetaudit_findings{severity="high"} 2' in text, "counted again"


def test_prom_has_a_series_for_every_rule_even_without_findings() -> None:
    """QA: a rule's series vanished when its last finding was fixed, so an alert on it
    read "no data" instead of 0."""
    text = render(OutputFormat.PROM)
    assert 'fleetaudit_rule_findings{rule="test-rule",severity="high"} 1' in text
    # a rule may report at another severity than its own (coverage's unread_severity)
    for rule in ("other", "test-rule"):
        for severity in ("info", "low", "medium", "critical"):
            assert f'fleetaudit_rule_findings{{rule="{rule}",severity="{severity}"}} 0' in text


def test_table_colours_only_when_asked_and_names_exposed_services() -> None:
    from fleetaudit.report import TableFormatter

    plain = TableFormatter().render(run())
    coloured = TableFormatter(colour=True).render(run())
    assert "\x1b[1;31mHIGH\x1b[0m" in coloured
    assert "\x1b[1;31m" not in plain
    exposed = next(line for line in plain.splitlines() if line.startswith("exposed"))
    assert "\\x1b[31mevil" in exposed  # remote text escaped even in the totals


def test_table_totals_count_the_hosts_each_exposed_service_runs_on() -> None:
    from fleetaudit.report import TableFormatter

    fleet = run_result(
        (
            snapshot("a", sock("0.0.0.0", 22), sock("::", 22), sock("10.0.0.1", 80, "nginx")),
            snapshot("b", sock("0.0.0.0", 22), sock("127.0.0.1", 25, "master")),
            *(snapshot(f"c{n}", sock("0.0.0.0", 9000 + n, f"app{n}")) for n in range(5)),
        )
    )
    text = TableFormatter().render(fleet)
    exposed = next(line for line in text.splitlines() if line.startswith("exposed"))
    # sshd on two hosts (two sockets on one of them), then the rest by name; loopback left out
    assert exposed.split(None, 1)[1] == (
        "sshd on 2 hosts, app0 on 1, app1 on 1, app2 on 1, app3 on 1 and 2 more (of 7 audited)"
    )
    nobody = run_result((snapshot("d", status=HostStatus.UNREACHABLE),))
    assert "exposed    unknown: no host audited" in TableFormatter().render(nobody)
    # a host not audited counts in neither figure
    down = snapshot("d", status=HostStatus.UNREACHABLE)
    text = TableFormatter().render(run_result((*fleet.snapshots, down)))
    assert "(of 7 audited)" in text


def test_a_run_of_local_hosts_only_says_no_host_key_was_checked() -> None:
    """`transport: local` hosts are reached without SSH: their host_key_checked is null, and
    the header must not say "strict" as if keys had been checked."""
    from fleetaudit.report import TableFormatter
    from fleetaudit.report.markdown import MarkdownFormatter

    local = run_result((snapshot("self", sock(), host_key_checked=None),))
    label = "not applicable (local hosts only, no SSH)"
    assert f"host keys  {label}" in TableFormatter().render(local)
    assert f"**Host keys:** {label}" in MarkdownFormatter().render(local)
    mixed = run_result((*local.snapshots, snapshot("web1", sock())))
    assert "host keys  strict" in TableFormatter().render(mixed)
    # --insecure-no-host-key-check changes nothing for hosts reached without SSH
    insecure = local.model_copy(update={"host_key_policy": HostKeyPolicy.INSECURE})
    assert "NOT verified" not in TableFormatter().render(insecure)
    insecure_mixed = mixed.model_copy(update={"host_key_policy": HostKeyPolicy.INSECURE})
    assert "NOT verified" in TableFormatter().render(insecure_mixed)


SAYS_KEYS_UNVERIFIED = {
    OutputFormat.TABLE: "WARNING: host keys were NOT verified",
    OutputFormat.MARKDOWN: "**Host keys:** insecure",
    OutputFormat.HTML: "Host keys were NOT verified",
    OutputFormat.JSON: '"host_key_checked": false',
    OutputFormat.JSONL: '"host_key_policy": "insecure-no-host-key-check"',
    OutputFormat.CSV: 'unverified,web1,host-key:not-verified,,,,"host key NOT verified',
    OutputFormat.JUNIT: "<system-out>host key NOT verified (--insecure-no-host-key-check)",
    OutputFormat.SARIF: "web1: host key NOT verified (--insecure-no-host-key-check)",
    OutputFormat.PROM: "fleetaudit_hosts_host_key_unverified 1",
}


@pytest.mark.parametrize("fmt", list(OutputFormat))
def test_every_format_says_a_host_key_was_not_verified(fmt: OutputFormat) -> None:
    """With no finding to carry it (a policy without a coverage rule), CSV, JUnit, SARIF and
    Prometheus said nothing of --insecure-no-host-key-check (QA); the README promises that
    every report says so."""
    unverified = snapshot("web1", sock("127.0.0.1", 22), host_key_checked=False)
    insecure = run_result((unverified,)).model_copy(
        update={"host_key_policy": HostKeyPolicy.INSECURE}
    )
    assert SAYS_KEYS_UNVERIFIED[fmt] in fmt.formatter().render(insecure)


def test_a_host_that_was_not_reached_is_not_counted_as_unverified() -> None:
    """Every host of an insecure run carries host_key_checked False; one never reached sent
    nothing to doubt, yet it was counted and named as unverified (QA)."""
    audited = snapshot("web1", sock("127.0.0.1", 22), host_key_checked=False)
    down = snapshot("dead", status=HostStatus.UNREACHABLE, error="refused", host_key_checked=False)
    insecure = run_result((audited, down)).model_copy(
        update={"host_key_policy": HostKeyPolicy.INSECURE}
    )
    assert "fleetaudit_hosts_host_key_unverified 1" in OutputFormat.PROM.formatter().render(
        insecure
    )
    csv_text = OutputFormat.CSV.formatter().render(insecure)
    assert "unverified,web1," in csv_text and "unverified,dead," not in csv_text


def test_no_format_lets_control_characters_or_markup_through() -> None:
    for fmt in OutputFormat:
        text = render(fmt)
        assert "\x1b" not in text, fmt
        if fmt in (OutputFormat.HTML, OutputFormat.MARKDOWN, OutputFormat.JUNIT):
            assert "<script>x" not in text, fmt  # the hostile payload, never as markup


def test_exposed_services_tell_kernel_sockets_from_unknown_owners() -> None:
    from fleetaudit.report import TableFormatter

    host = snapshot(
        "nfs1",
        sock("0.0.0.0", 2049, None),  # nfsd: a kernel socket, seen as root
        sock("0.0.0.0", 8080, None, owner_known=False),
    )
    text = TableFormatter().render(run_result((host,)))
    exposed = next(line for line in text.splitlines() if line.startswith("exposed"))
    assert "port 2049 (no process), port 8080 (owner unknown)" in exposed


def test_exposed_services_join_the_programs_of_one_socket_apart_from_the_list() -> None:
    """QA: a listener shared by `child 0`..`child 3` and `srv (pre-fork` showed as
    "child,srv, python3", which reads as one program called "child,srv"."""
    from dataclasses import replace

    from fleetaudit.model.socket import Process
    from fleetaudit.report import TableFormatter

    shared = replace(
        sock("0.0.0.0", 6000, "srv (pre-fork"),
        processes=(Process("child 0", 8436, 3), Process("srv (pre-fork", 8024, 3)),
    )
    host = snapshot("h1", shared, sock("0.0.0.0", 7700, "python3"))
    text = TableFormatter().render(run_result((host,)))
    exposed = next(line for line in text.splitlines() if line.startswith("exposed"))
    assert exposed.split(None, 1)[1] == "child+srv, python3"


def test_markdown_heading_counts_audited_hosts_and_uses_singulars() -> None:
    hosts = tuple(snapshot(f"web{i}", sock("0.0.0.0", 23)) for i in range(5)) + (
        snapshot("down1", status=HostStatus.UNREACHABLE, error="x", tool=None, privilege=None),
    )
    findings = tuple(finding(f"web{i % 3}", sock("0.0.0.0", 23 + i)) for i in range(6))
    heading = OutputFormat.MARKDOWN.formatter().render(run_result(hosts, findings))
    assert heading.startswith("## fleetaudit: 6 findings; 6 hosts, 5 audited\n")
    none = OutputFormat.MARKDOWN.formatter().render(run_result(hosts[:1]))
    assert none.startswith("## fleetaudit: 0 findings; 1 host, 1 audited\n")


def test_table_shows_the_duration_of_a_fast_run() -> None:
    def took(seconds: float) -> str:
        fleet = run_result((), finished_at=T0 + timedelta(seconds=seconds))
        [line] = [x for x in OutputFormat.TABLE.formatter().render(fleet).splitlines()
                  if x.startswith("run ")]  # fmt: skip
        return line.rsplit(", ", 1)[1]

    assert [took(s) for s in (0.0, 0.004, 0.02, 0.049, 0.1, 12.34)] == [
        "<0.01s", "<0.01s", "0.02s", "0.05s", "0.1s", "12.3s"
    ]  # fmt: skip
