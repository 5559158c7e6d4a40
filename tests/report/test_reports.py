"""The table and JSON reports say what an operator relies on."""

import json

from fleetaudit.errors import ExitCode
from fleetaudit.model import HostKeyPolicy, HostStatus, Privilege, Severity, SocketState
from fleetaudit.model.socket import Socket
from fleetaudit.parse import parse_capture
from fleetaudit.report import SCHEMA_VERSION, OutputFormat
from fleetaudit.report.json import host_pieces
from fleetaudit.verdict import verdict
from tests.captures import CAPTURES, UNREADABLE, read_capture
from tests.factories import finding, run_result, snapshot, sock


def _run(**fields):
    mysql = sock("0.0.0.0", 3306, "mysqld")
    ok = snapshot("db1", sock(), mysql)
    down = snapshot("down1", status=HostStatus.UNREACHABLE, error="connection refused")
    return run_result((ok, down), (finding("db1", mysql),), **fields)


def test_every_format_renders():
    for fmt in OutputFormat:
        assert fmt.formatter().render(_run()).endswith("\n")


def test_json_has_schema_version_hosts_sockets_and_findings():
    doc = json.loads(OutputFormat.JSON.formatter().render(_run()))
    assert doc["schema_version"] == SCHEMA_VERSION
    db1, down1 = doc["hosts"]
    assert db1["status"] == "ok" and down1["status"] == "unreachable"
    assert down1["error"] == "connection refused"
    mysql = db1["sockets"][1]
    assert mysql["local_address"] == "0.0.0.0" and mysql["local_port"] == 3306
    assert mysql["accept_queue"] == 0 and mysql["backlog_limit"] == 128
    assert mysql["bind_scope"] == "any"
    assert doc["findings"][0]["process"] == "mysqld[100]"
    assert doc["summary"]["hosts_audited"] == 1
    assert doc["summary"]["findings_by_severity"]["high"] == 1


def test_table_shows_hosts_findings_and_totals():
    text = OutputFormat.TABLE.formatter().render(_run())
    assert "down1" in text and "unreachable" in text and "connection refused" in text
    assert "HIGH" in text and "0.0.0.0:3306" in text and "mysqld[100]" in text
    assert "2 (1 audited, 1 not audited)" in text


def test_table_escapes_hostile_process_names():
    evil = sock("0.0.0.0", 8080, "x\x1b]0;pwned\x07")
    text = OutputFormat.TABLE.formatter().render(
        run_result((snapshot("h", evil),), (finding("h", evil),))
    )
    assert "\x1b" not in text and "\x07" not in text
    assert "x\\x1b]0;pwned\\x07" in text


def test_table_warns_loudly_about_insecure_host_keys_and_missing_privilege():
    unpriv = snapshot(
        "cache1", sock(process=None, owner_known=False), privilege=Privilege.UNPRIVILEGED
    )
    text = OutputFormat.TABLE.formatter().render(
        run_result((unpriv,), host_key_policy=HostKeyPolicy.INSECURE)
    )
    assert "host keys were NOT verified" in text
    assert "audited without root" in text and "cache1" in text


def test_verdict_exit_codes():
    run = _run()
    assert verdict(run, Severity.HIGH) is ExitCode.ERROR  # a host was not audited
    assert verdict(run, Severity.HIGH, allow_unreachable=True) is ExitCode.FINDINGS
    assert verdict(run, Severity.CRITICAL, allow_unreachable=True) is ExitCode.CLEAN
    clean = run_result((snapshot("web1", sock()),))
    assert verdict(clean, Severity.LOW) is ExitCode.CLEAN
    nothing = run_result((snapshot("down", status=HostStatus.TIMEOUT),))
    assert verdict(nothing, Severity.LOW, allow_unreachable=True) is ExitCode.ERROR


def test_a_busy_hosts_sockets_are_written_in_pieces_with_the_same_text():
    # A 500,000-socket host's JSON is written a few thousand sockets at a time; the text
    # must be exactly what one json.dumps of the whole host gives, whatever the cut.
    sockets = [sock("10.0.0.1", port, "nginx", state=SocketState.ESTABLISHED) for port in range(7)]
    busy = snapshot("lb1", sock(), *sockets, status=HostStatus.OK)
    whole = json.dumps(busy.model_dump(mode="json"))
    for per_piece in (1, 2, 3, 4, 8, 100):
        pieces = list(host_pieces(busy, per_piece))
        assert "".join(pieces) == whole, per_piece
        assert len(pieces) == 2 + -(-8 // per_piece)  # head, socket pieces, tail
    empty = snapshot("down1", status=HostStatus.UNREACHABLE, error="connection refused")
    assert "".join(host_pieces(empty, 1)) == json.dumps(empty.model_dump(mode="json"))


def test_the_json_report_of_several_busy_hosts_parses_back_whole():
    conns = [sock("10.0.0.2", p, "haproxy", state=SocketState.ESTABLISHED) for p in range(5)]
    hosts = [snapshot(f"lb{i}", sock(), *conns) for i in range(3)]
    run = run_result((*hosts, snapshot("db1", sock())), ())
    doc = json.loads(OutputFormat.JSON.formatter().render(run))
    assert [h["host"] for h in doc["hosts"]] == ["lb0", "lb1", "lb2", "db1"]
    assert [len(h["sockets"]) for h in doc["hosts"]] == [6, 6, 6, 1]


def test_every_capture_fixtures_host_is_written_as_json_dumps_would() -> None:
    # The sockets are written by a template, not json.dumps: the text must not differ, for
    # every socket recorded and for names json escapes (non-ASCII, control characters).
    hostile = sock("0.0.0.0", 53, 'caf\u00e9 "q" \\ \x1b[31m \u2028', interface="e\u00f1p0")
    hosts = [snapshot("odd1", hostile, sock())]
    for path in sorted(CAPTURES.glob("*.txt")):
        if path.stem in UNREADABLE:
            continue
        _, result = parse_capture(read_capture(path), privileged=True)
        hosts.append(snapshot(path.stem, *(Socket.from_raw(raw) for raw in result.sockets)))
    for host in hosts:
        assert "".join(host_pieces(host, 7)) == json.dumps(host.model_dump(mode="json")), host.host
