"""Hostile hosts on a real sshd: a host that was reached must not slip out of the audit.

Each test's sshd runs a ForceCommand script that misbehaves in one way once the login
succeeded: floods stderr, drips its listing, never ends it, drops the session, is killed
by a signal, turns newlines into CRLF. None of these may pass for "not reached", which
``--allow-unreachable`` (the README's cron recipe) would excuse with exit 0. Every script
records its PID, and the test stops exactly those processes; every loop is bounded.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fleetaudit.collect.runner import CollectSettings, collect_host
from fleetaudit.inventory.model import Host
from fleetaudit.model.enums import HostStatus
from fleetaudit.transport import SshSettings, SshTransport
from tests.runcli import fleetaudit
from tests.sshd import SshdServer, start_sshd

pytestmark = [pytest.mark.sshd, pytest.mark.timeout(60)]

POLICY = """\
version: 1
name: hostile
rules:
  - id: nothing-on-port-1
    kind: forbidden
    severity: high
    description: nothing listens there; the verdict depends on the host's status only
    match: {port: 1, proto: tcp}
"""

LISTING = "exec /bin/sh"
"""The real collection: the client's command line, which reads the script from stdin."""
FLOOD = "yes 'warning: noise' | head -c 3000000 >&2"
"""3 MB on stderr: far past the 64 KiB kept and any SSH channel window."""
FOREVER = 30
"""Seconds a 'never ending' script really runs: far above --command-timeout 2."""


def _script(body: str) -> str:
    return f'echo $$ >> "$(dirname "$0")/remote.pids"\n{body}\n'


SCRIPTS = {
    "quiet-flood-ok": f"{FLOOD}\n{LISTING}",
    "flood-then-fail": f"/bin/sh\n{FLOOD}\necho 'ss: cannot open netlink socket' >&2\nexit 3",
    "drip": f"i=0; while [ $i -lt {FOREVER} ]; do printf @; sleep 1; i=$((i+1)); done",
    "endless-newlines": (
        f"/bin/sh\ni=0; while [ $i -lt {FOREVER} ]; do echo; sleep 1; i=$((i+1)); done"
    ),
    "session-killed": "/bin/sh | head -c 3000\nsleep 0.5\nkill -KILL $PPID",
    "killed-by-signal": "/bin/sh\nkill -KILL $$",
    "crlf": "/bin/sh | sed 's/$/\\r/'",
    "whole": LISTING,
    "cut-between-lines": "/bin/sh | grep -v ESTAB",
}


@pytest.fixture
def hostile(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SshdServer]:
    """An sshd whose ForceCommand is ``SCRIPTS[request.param]``."""
    directory = tmp_path / "sshd"
    directory.mkdir()
    script = directory / "hostile.sh"
    script.write_text(_script(SCRIPTS[request.param]))
    try:
        yield from start_sshd(directory, extra_config=f"ForceCommand exec /bin/sh {script}\n")
    finally:
        _stop_remote_scripts(directory / "remote.pids", script)


def _stop_remote_scripts(pids: Path, script: Path) -> None:
    """Kill what is left of this test's own scripts: only PIDs they recorded, and only
    while that PID still runs this script."""
    for pid in pids.read_text().split() if pids.exists() else ():
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if str(script).encode() in cmdline:
            os.kill(int(pid), signal.SIGKILL)


COVERAGE = """\
  - id: audit-coverage
    kind: coverage
    severity: medium
    description: what the audit could not see
"""


def _run(tmp: Path, server: SshdServer, *options: str) -> tuple[int, dict[str, object]]:
    """``fleetaudit run`` as the README's cron recipe has it (``--allow-unreachable``), on
    the hostile host and a healthy one (a run that audited no host is an error anyway)."""
    code, report = _report(tmp, server, POLICY, *options)
    hosts = {h["host"]: h for h in report["hosts"]}
    return code, hosts["hostile"]


def _report(
    tmp: Path, server: SshdServer, policy_text: str, *options: str
) -> tuple[int, dict[str, Any]]:
    """The exit code and the JSON report of :func:`_run`'s run, judged by ``policy_text``."""
    inventory, known_hosts, policy = tmp / "inventory.yaml", tmp / "known_hosts", tmp / "p.yaml"
    inventory.write_text(
        f"defaults: {{user: {server.user}, key: {server.client_key}}}\n"
        f"hosts:\n  hostile: {{address: {server.host}, port: {server.port}}}\n"
        "  localhost: {transport: local}\n"
    )
    known_hosts.write_text(server.known_hosts_entry + "\n")
    policy.write_text(policy_text)
    report = tmp / "report.json"
    done = fleetaudit(
        "run", inventory, "--policy", policy, "--known-hosts", known_hosts,
        "--format", "json", "--output", report, "--connect-timeout", "5",
        "--allow-unreachable", *options, timeout=40,
    )  # fmt: skip
    assert "Traceback" not in done.stderr, done.stderr
    document: dict[str, Any] = json.loads(report.read_text())
    local = next(h for h in document["hosts"] if h["host"] == "localhost")
    assert local["status"] == "ok", local
    return done.returncode, document


@pytest.mark.parametrize("hostile", ["quiet-flood-ok"], indirect=True)
def test_megabytes_on_stderr_do_not_stall_a_good_listing(
    tmp_path: Path, hostile: SshdServer
) -> None:
    code, host = _run(tmp_path, hostile, "--command-timeout", "20")
    assert (code, host["status"]) == (0, "ok"), host  # stalled, it would end "command_failed"


@pytest.mark.parametrize("hostile", ["flood-then-fail"], indirect=True)
def test_megabytes_on_stderr_still_give_the_failure_and_its_last_line(
    tmp_path: Path, hostile: SshdServer
) -> None:
    code, host = _run(tmp_path, hostile, "--command-timeout", "20")
    assert (code, host["status"]) == (2, "command_failed"), host
    assert "exited with status 3: ss: cannot open netlink socket" in str(host["error"])


@pytest.mark.parametrize(
    ("hostile", "said"),
    [
        # what had arrived says which: a link or listing too slow, or a hung command
        ("drip", "the listing did not finish within 2s (--command-timeout) after sending "),
        ("endless-newlines", "the listing did not finish within 2s (--command-timeout)"),
        ("session-killed", "connection lost while the listing ran"),
    ],
    indirect=["hostile"],
)
def test_a_reached_host_that_stalls_or_drops_its_listing_is_not_excused(
    tmp_path: Path, hostile: SshdServer, said: str
) -> None:
    code, host = _run(tmp_path, hostile, "--command-timeout", "2")
    assert (code, host["status"]) == (2, "command_failed"), host
    assert said in str(host["error"]), host


@pytest.mark.parametrize("hostile", ["killed-by-signal"], indirect=True)
def test_a_script_killed_by_a_signal_says_which(tmp_path: Path, hostile: SshdServer) -> None:
    code, host = _run(tmp_path, hostile, "--command-timeout", "20")
    assert (code, host["status"]) == (2, "command_failed"), host
    assert "was killed by signal KILL" in str(host["error"]), host


@pytest.mark.parametrize("hostile", ["crlf"], indirect=True)
def test_crlf_line_endings_are_named(tmp_path: Path, hostile: SshdServer) -> None:
    code, host = _run(tmp_path, hostile, "--command-timeout", "20")
    assert (code, host["status"]) == (2, "command_failed"), host
    assert "CRLF line endings" in str(host["error"]), host


@pytest.mark.parametrize("hostile", ["drip"], indirect=True)
def test_the_host_deadline_passing_during_the_listing_is_not_excused(
    tmp_path: Path, hostile: SshdServer
) -> None:
    """The host deadline (a safety net under --command-timeout) fires mid-listing."""
    settings = SshSettings(known_hosts=(tmp_path / "known_hosts",), use_ssh_config=False)
    (tmp_path / "known_hosts").write_text(hostile.known_hosts_entry + "\n")
    host = Host(name="hostile", address=hostile.host, port=hostile.port,
                user=hostile.user, key=str(hostile.client_key))  # fmt: skip
    collect = CollectSettings(command_timeout=30, host_deadline=3)
    capture = asyncio.run(collect_host(host, SshTransport(settings), collect))
    assert capture.status is HostStatus.COMMAND_FAILED, capture.error
    assert "listing had not finished when the 3s host deadline passed" in str(capture.error)
    assert not capture.status.unreachable


@pytest.mark.parametrize(
    ("hostile", "cut"), [("whole", False), ("cut-between-lines", True)], indirect=["hostile"]
)
def test_a_listing_without_the_audits_own_connection_reads_as_cut(
    tmp_path: Path, hostile: SshdServer, cut: bool
) -> None:
    """A listing that ends between two lines, its tool exiting 0, parses cleanly: only the
    audit's own connection, which sshd names in $SSH_CONNECTION and a whole listing holds,
    tells it was cut. (This one lost every established connection, the audit's with them.)"""
    code, report = _report(tmp_path, hostile, POLICY + COVERAGE, "--command-timeout", "20")
    host = next(h for h in report["hosts"] if h["host"] == "hostile")
    assert host["status"] == "ok", host
    assert host["audit_connection"][0] == hostile.port, host["audit_connection"]
    said = [f["message"] for f in report["findings"] if f["host"] == "hostile"]
    assert any("lacks this audit's own SSH connection" in m for m in said) is cut, said
    assert code == (1 if cut else 0), said
