"""coverage: hosts the audit could not see completely are findings of their own."""

from dataclasses import replace

import pytest

from fleetaudit.collect.reply import parse_reply
from fleetaudit.model import LineError, Privilege, Severity, Tool
from fleetaudit.policy import evaluate
from fleetaudit.snapshot import build_snapshot
from tests.factories import captured, snapshot, sock
from tests.policy.builders import policy, unknown_owner

COVERAGE = policy(
    """
    version: 1
    rules:
      - {id: coverage, kind: coverage, description: blind spots hide findings}
    """
)


def test_fully_visible_host_has_no_coverage_finding() -> None:
    assert evaluate(snapshot("web1", sock("0.0.0.0", 22, "sshd")), COVERAGE) == []


def test_unprivileged_audit_is_medium_by_default_and_explains_the_gap() -> None:
    host = snapshot(
        "cache1",
        sock("0.0.0.0", 22, "sshd"),
        unknown_owner("0.0.0.0", 11211),
        privilege=Privilege.UNPRIVILEGED,
        privilege_note="sudo -n refused: a password is required",
    )
    [finding] = evaluate(host, COVERAGE)
    assert finding.severity is Severity.MEDIUM
    assert finding.socket is None
    assert "audited without privilege (sudo -n refused" in finding.message
    assert "1 of 2 sockets have an unknown owner" in finding.message


def test_unknown_owners_alone_count_as_unprivileged() -> None:
    assert len(evaluate(snapshot("h", unknown_owner("0.0.0.0", 22)), COVERAGE)) == 1


@pytest.mark.parametrize(
    ("tool", "because"),
    [
        (Tool.PROC, "/proc/net names no processes"),
        (Tool.NETSTAT, "the host's netstat cannot name processes (built without -p)"),
    ],
)
def test_root_listing_without_processes_blames_the_tool_not_privilege(
    tool: Tool, because: str
) -> None:
    """Audited as root, yet no owner known: sudo would not help, ss would."""
    host = snapshot("edge1", unknown_owner("0.0.0.0", 22), tool=tool, privilege=Privilege.ROOT)
    [finding] = evaluate(host, COVERAGE)
    assert finding.message.startswith(f"edge1: {because}: 1 of 1 sockets have an unknown owner")
    assert "Install ss" in finding.message
    assert "privilege" not in finding.message and "sudo" not in finding.message


def test_a_root_netstat_that_names_other_owners_is_not_said_to_lack_p() -> None:
    # one uid-1000 listener shown as "-" among named ones: -p works, the process was hidden
    host = snapshot(
        "mail1", sock("0.0.0.0", 25, "master"), unknown_owner("0.0.0.0", 8025),
        tool=Tool.NETSTAT, privilege=Privilege.ROOT,
    )  # fmt: skip
    [finding] = evaluate(host, COVERAGE)
    assert finding.message.startswith(
        "mail1: netstat ran as root but could not see the owning processes: 1 of 2 sockets"
    )
    assert "built without -p" not in finding.message


def test_proc_net_host_blames_the_tool_whatever_the_privilege() -> None:
    # the collection script reports /proc/net listings as unprivileged: no tool ran as root
    host = snapshot(
        "edge2", unknown_owner("0.0.0.0", 22), tool=Tool.PROC, privilege=Privilege.UNPRIVILEGED
    )
    [finding] = evaluate(host, COVERAGE)
    assert finding.message.startswith("edge2: /proc/net names no processes: 1 of 1 sockets")
    assert "sudo" not in finding.message


def test_no_host_key_check_is_high_by_default() -> None:
    host = snapshot("web2", sock("0.0.0.0", 22, "sshd"), host_key_checked=False)
    [finding] = evaluate(host, COVERAGE)
    assert finding.severity is Severity.HIGH
    assert "without host-key verification" in finding.message


def test_severities_are_configurable_and_both_gaps_reported_separately() -> None:
    custom = policy(
        """
        version: 1
        rules:
          - {id: coverage, kind: coverage, description: d, severity: low,
             host_key_severity: critical}
        """
    )
    host = snapshot("h", unknown_owner(), privilege=Privilege.UNPRIVILEGED, host_key_checked=False)
    unprivileged, host_key = evaluate(host, custom)
    assert (unprivileged.severity, host_key.severity) == (Severity.LOW, Severity.CRITICAL)
    assert unprivileged.fingerprint != host_key.fingerprint


def test_unread_lines_are_a_high_finding_naming_the_first() -> None:
    errors = (
        LineError(line=7, text="tcp6 ...", reason="may have been cut"),
        LineError(line=9, text="tcp6 ...", reason="may have been cut"),
    )
    host = snapshot("old1", sock("0.0.0.0", 22, "sshd"), parse_errors=errors)
    [finding] = evaluate(host, COVERAGE)
    assert (finding.severity, finding.socket) == (Severity.HIGH, None)
    assert finding.message.startswith(
        "old1: 2 line(s) of its listing could not be read, so the sockets on them were not "
        "judged (first, line 7: may have been cut)"
    )
    # the fingerprint names the gap, not the count: it stays the same run after run
    fewer = snapshot("old1", sock("0.0.0.0", 22, "sshd"), parse_errors=errors[:1])
    assert evaluate(fewer, COVERAGE)[0].fingerprint == finding.fingerprint


def test_root_ss_that_names_no_process_points_at_p_and_pid_namespaces() -> None:
    """ss as root names every process it can see; none at all means the listing had no -p
    (a saved `ss -tuan`), or the owners live where the audit cannot see them (a container
    sharing the host's network, or a process whose /proc/PID/fd root may not read)."""
    host = snapshot("node1", unknown_owner("0.0.0.0", 2024), privilege=Privilege.ROOT)
    [finding] = evaluate(host, COVERAGE)
    assert finding.message.startswith(
        "node1: ss named no process at all: the listing was taken without -p, or as root "
        "where the owning processes cannot be seen: 1 of 1 sockets"
    )
    assert "not in a container that shares its network" in finding.message
    assert "sudo" not in finding.message and "Install ss" not in finding.message


def test_root_ss_that_names_some_processes_was_not_blind() -> None:
    host = snapshot(
        "node2", sock("0.0.0.0", 22, "sshd"), unknown_owner("0.0.0.0", 2024),
        privilege=Privilege.ROOT,
    )  # fmt: skip
    [finding] = evaluate(host, COVERAGE)
    assert finding.message.startswith(
        "node2: ss ran as root but could not see the owning processes: 1 of 2 sockets"
    )
    assert "without -p" not in finding.message


_UNPRIVILEGED_SS = (
    "@@fleetaudit 1\n@@uid 1000\n@@tool ss\n@@command ss -tuanpe\n@@privilege unprivileged\n"
    "@@output\nNetid State  Recv-Q Send-Q Local Address:Port Peer Address:Port Process\n"
    "tcp   LISTEN 0      128    0.0.0.0:22         0.0.0.0:*\n"
)


@pytest.mark.parametrize(
    ("transport", "key_checked", "remedy"),
    [
        ("ssh", None, "Take the capture as root (`sudo ss -tuanpe`), or pass --privileged"),
        ("ssh", True, "Set become: true and add the sudoers line"),  # a live host over SSH
        ("local", None, "Set become: true and add the sudoers line"),  # a real login, no SSH
    ],
)
def test_the_advice_fits_how_the_listing_was_taken(
    transport: str, key_checked: bool | None, remedy: str
) -> None:
    """Only a replayed capture (an SSH host reached without SSH) is told about
    --privileged; live hosts, local ones included, about sudo."""
    reply = parse_reply(_UNPRIVILEGED_SS)
    capture = replace(captured(reply, "h1", transport=transport), host_key_checked=key_checked)
    [finding] = evaluate(build_snapshot(capture), COVERAGE)
    assert remedy in finding.message
    assert ("--privileged" in finding.message) is (remedy.startswith("Take"))


_REFUSED_SS = _UNPRIVILEGED_SS.replace(
    "@@privilege",
    "@@sudo-command /usr/sbin/ss -tuanpe\n@@sudo-refused sudo: a password is required\n@@privilege",
)


@pytest.mark.parametrize(
    ("user", "remedy"),
    [
        ("audit", "Add the sudoers line `audit ALL=(root) NOPASSWD: /usr/sbin/ss -tuanpe`."),
        (None, "`USER ALL=(root) NOPASSWD: /usr/sbin/ss -tuanpe`, USER being the audit user."),
        # a login name sudoers would read as ALL (every user) or an alias is quoted
        ("ALL", 'Add the sudoers line `"ALL" ALL=(root) NOPASSWD: /usr/sbin/ss -tuanpe`.'),
    ],
)
def test_a_refused_sudo_is_answered_with_the_exact_sudoers_line(
    user: str | None, remedy: str
) -> None:
    """With become on and sudo refusing, the advice is the sudoers line for the command the
    script asked sudo to run, for the login user (was: set become / passwordless sudo)."""
    reply = parse_reply(_REFUSED_SS)
    capture = captured(reply, "h1", become=True, user=user)
    [finding] = evaluate(build_snapshot(replace(capture, host_key_checked=True)), COVERAGE)
    assert "(sudo -n refused (sudo: a password is required); owners of" in finding.message
    assert remedy in finding.message and finding.message.count("NOPASSWD") == 1
    assert "passwordless" not in finding.message and "become" not in finding.message
