"""`fleetaudit check`: saved captures judged without SSH, through the same pipeline."""

from __future__ import annotations

import json
import shutil
from importlib import resources
from pathlib import Path

from tests.runcli import fleetaudit

DEMO = Path(str(resources.files("fleetaudit").joinpath("data", "demo")))
CAPTURES = Path(__file__).parents[1] / "fixtures" / "captures"


def test_mysqld_on_any_address_and_a_full_accept_queue_are_flagged(tmp_path: Path) -> None:
    db = shutil.copy(DEMO / "db1.ss.txt", tmp_path / "db1.ss.txt")
    app = shutil.copy(CAPTURES / "ss-tuanpe-root.txt", tmp_path / "app9.txt")
    done = fleetaudit("check", db, app, "--privileged", "--format", "json")
    assert done.returncode == 1, done.stderr
    report = json.loads(done.stdout)
    found = {
        (f["host"], f["rule_id"], f["severity"], f["socket"]["local_port"])
        for f in report["findings"]
    }
    assert ("db1", "mysql-loopback", "high", 3306) in found
    assert ("app9", "listen-backlog", "medium", 7000) in found
    [backlog] = [f for f in report["findings"] if f["rule_id"] == "listen-backlog"]
    assert "accept queue 5/4" in backlog["message"]


def test_a_host_read_without_ss_says_what_its_listing_cannot_show(tmp_path: Path) -> None:
    """The same sockets (a listener shared by three processes, a full accept queue) read by
    netstat and /proc/net: what ss reports there goes unjudged, and the reader of the table
    must know why the verdicts differ (QA)."""
    hosts = {"byss": "ss-tuanpe-root", "bynetstat": "netstat-tuanpeW-root", "byproc": "proc-net"}
    files = [shutil.copy(CAPTURES / f"{c}.txt", tmp_path / f"{h}.txt") for h, c in hosts.items()]
    done = fleetaudit("check", *files, "--privileged")
    assert done.returncode == 1, done.stderr
    hosts_table = done.stdout.split("\n\n")[0]
    rows = {line.split()[0]: line for line in hosts_table.splitlines()[3:]}
    assert rows["bynetstat"].endswith(
        "no ss: netstat shows one process per socket, no backlog limits"
    )
    assert "/proc/net names no processes; no backlog limits" in " ".join(done.stdout.split())
    assert rows["byss"].split()[1:] == ["ok", "ss", "root", "14"]  # no note


def test_a_netstat_that_names_no_process_is_not_said_to_name_one_per_socket(
    tmp_path: Path,
) -> None:
    capture = shutil.copy(CAPTURES / "nt-busybox-tuane-root.txt", tmp_path / "bb1.txt")
    done = fleetaudit("check", capture, "--privileged", "--wide")
    [row] = [line for line in done.stdout.splitlines() if line.startswith("bb1 ")]
    assert row.endswith("no ss: netstat shows no backlog limits"), row


def test_a_capture_piped_in_is_judged_under_the_name_given(tmp_path: Path) -> None:
    """`check -` said to name the host with --host; with --host it then failed reading a
    file called '-' (QA)."""
    listing = (DEMO / "db1.ss.txt").read_text()
    unnamed = fleetaudit("check", "-", "--privileged", stdin=listing)
    assert unnamed.returncode == 2
    # not "'-' is not a name of letters, digits, _ . -", which '-' is (QA)
    assert "stdin has no file name to name its host: name it with --host" in unnamed.stderr
    done = fleetaudit("check", "-", "--host", "db3", "--privileged", "-f", "json", stdin=listing)
    assert done.returncode == 1, done.stderr
    found = {(f["host"], f["rule_id"]) for f in json.loads(done.stdout)["findings"]}
    assert ("db3", "mysql-loopback") in found
    explained = fleetaudit("policy", "explain", "--host", "db3", "-", "--privileged", stdin=listing)
    assert explained.returncode == 0, explained.stderr
    assert "mysqld" in explained.stdout


def test_waiver_in_the_policy_turns_the_verdict_clean(tmp_path: Path) -> None:
    capture = shutil.copy(DEMO / "db1.ss.txt", tmp_path / "db1.ss.txt")
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        "version: 1\nrules:\n"
        "  - {id: mysql-loopback, kind: bind-scope, severity: high, description: d,\n"
        "     match: {process: mysqld}, allow: [loopback]}\n"
        "waivers:\n"
        "  - {rule: mysql-loopback, reason: migration window, expires: 2999-01-01}\n"
    )
    done = fleetaudit("check", capture, "--policy", policy, "--privileged")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "WAIVED (1" in done.stdout and "migration window" in done.stdout


def test_host_and_groups_come_from_the_inventory(tmp_path: Path) -> None:
    capture = shutil.copy(DEMO / "db1.ss.txt", tmp_path / "db1.ss.txt")
    inventory = tmp_path / "inventory.yaml"
    inventory.write_text("hosts:\n  db1: {groups: [db]}\n")
    done = fleetaudit(
        "check", capture, "--inventory", inventory, "--format", "json", "--privileged"
    )
    rules = {f["rule_id"] for f in json.loads(done.stdout)["findings"]}
    assert "datastores-private-on-db-hosts" in rules and "mysql-loopback" not in rules


def test_bad_captures_are_clear_errors(tmp_path: Path) -> None:
    route = tmp_path / "r1.txt"
    route.write_text("Kernel IP routing table\n")
    done = fleetaudit("check", route)
    assert done.returncode == 2 and "routing table" in done.stderr
    assert "Traceback" not in done.stderr
    done = fleetaudit("check", route, route, "--host", "x")
    assert done.returncode == 2 and "single capture" in done.stderr


def test_a_file_name_that_is_no_host_name_is_refused(tmp_path: Path) -> None:
    listing = (CAPTURES / "ss-tlnH.txt").read_text()
    for hostile in ("$(id).txt", "-oFoo.txt", "my host.txt"):
        capture = tmp_path / hostile
        capture.write_text(listing)
        done = fleetaudit("check", "--", capture)
        assert done.returncode == 2
        assert "the host's name comes from the file name; name the host with --host" in (
            done.stderr
        )
        assert done.stdout == ""
    named = fleetaudit("check", "--host", "web1", "--", tmp_path / "$(id).txt")
    assert named.returncode in (0, 1) and "web1" in named.stdout


def test_a_listener_of_several_sockets_is_one_finding_in_every_format(tmp_path: Path) -> None:
    """unbound with `so-reuseport` and two threads (a real capture): two sockets on each
    address, port and protocol. Four listeners, four findings, four fingerprints."""
    policy = tmp_path / "p.yaml"
    policy.write_text(
        "version: 1\nrules:\n"
        "  - {id: no-5335, kind: forbidden, severity: high, description: d, match: {port: 5335}}\n"
    )
    capture = shutil.copy(CAPTURES / "svc-ss-tuanpe-root.txt", tmp_path / "svc.txt")
    report, junit, csv_file = tmp_path / "r.json", tmp_path / "r.xml", tmp_path / "r.csv"
    done = fleetaudit("check", capture, "--privileged", "-p", policy, "-o", f"json={report}",
                      "-o", f"junit={junit}", "-o", f"csv={csv_file}")  # fmt: skip
    assert done.returncode == 1, done.stderr
    findings = json.loads(report.read_text())["findings"]
    listeners = {(f["socket"]["proto"], f["socket"]["local_address"]) for f in findings}
    assert listeners == {("tcp", "127.0.0.1"), ("udp", "127.0.0.1"), ("tcp", "::1"), ("udp", "::1")}
    assert len({f["fingerprint"] for f in findings}) == len(findings) == 4
    assert all("as 2 sockets (SO_REUSEPORT)" in f["message"] for f in findings)
    assert junit.read_text().count("<failure") == 4
    assert len(csv_file.read_text().splitlines()) == 1 + 4
