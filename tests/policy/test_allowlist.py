"""allowlist: closed world per group, unioned across every list that selects the host."""

import pytest

from fleetaudit.model import Privilege, Proto, Severity, Socket, SocketState, Tool
from fleetaudit.policy import evaluate
from tests.factories import snapshot, sock
from tests.policy.builders import policy, unknown_owner

LISTS_TEXT = """
    version: 1
    rules:
      - id: web-allow
        kind: allowlist
        severity: high
        description: web hosts serve HTTP only
        select: {groups: [web]}
        allow:
          - {process: nginx, port: [80, 443]}
      - id: base-allow
        kind: allowlist
        severity: low
        description: every managed host may run these
        select: {groups: [web, db]}
        allow:
          - {process: sshd, port: 22}
          - {process: {regex: "^systemd-resolve"}, port: 53, scope: loopback}
    """
LISTS = policy(LISTS_TEXT)

WEB_LISTENERS = (
    sock("0.0.0.0", 22, "sshd"),
    sock("0.0.0.0", 80, "nginx"),
    sock("::", 443, "nginx"),
    sock("127.0.0.53", 53, "systemd-resolve", interface="lo"),
)


def test_listeners_allowed_by_either_list_are_not_findings() -> None:
    assert evaluate(snapshot("web1", *WEB_LISTENERS, groups=("web",)), LISTS) == []


def test_unexpected_listener_names_process_port_address_and_the_lists() -> None:
    extra = sock("0.0.0.0", 111, "rpcbind")
    [finding] = evaluate(snapshot("web1", *WEB_LISTENERS, extra, groups=("web",)), LISTS)
    assert finding.rule_id == "web-allow"
    assert "unexpected listener: rpcbind listens on 0.0.0.0:111/tcp" in finding.message
    assert "'web-allow', 'base-allow'" in finding.message
    # the strictest of the applicable lists decides how bad an unexpected listener is
    assert finding.severity is Severity.HIGH


def test_a_finding_is_filed_under_the_strictest_list_whatever_the_file_order() -> None:
    """Filed under the first list, a critical finding named a low rule: its description,
    and in SARIF the rule's security-severity, which code scanning shows, said low (QA)."""
    swapped = policy(
        """
        version: 1
        rules:
          - {id: base-allow, kind: allowlist, severity: low, description: lax base,
             allow: [{process: sshd, port: 22}, {port: 53}]}
          - {id: web-allow, kind: allowlist, severity: high, description: strict web,
             select: {groups: [web]}, allow: [{process: nginx, port: [80, 443]}]}
        """
    )
    extra = sock("0.0.0.0", 111, "rpcbind")
    [finding] = evaluate(snapshot("web1", *WEB_LISTENERS, extra, groups=("web",)), swapped)
    assert (finding.rule_id, finding.severity) == ("web-allow", Severity.HIGH)
    assert "'base-allow', 'web-allow'" in finding.message  # every list, in file order


def test_an_entry_of_another_groups_list_does_not_apply() -> None:
    # nginx is allowed for web hosts only: on a db host it is unexpected
    [finding] = evaluate(snapshot("db1", *WEB_LISTENERS[:2], groups=("db",)), LISTS)
    assert finding.rule_id == "base-allow"
    assert "nginx listens on 0.0.0.0:80" in finding.message
    assert finding.severity is Severity.LOW


def test_hosts_no_allowlist_selects_are_not_closed_world_checked() -> None:
    assert evaluate(snapshot("misc1", sock("0.0.0.0", 111, "rpcbind")), LISTS) == []


def test_entry_conditions_all_apply() -> None:
    # the resolver entry requires loopback: the same process on a public address is not allowed
    public_dns = sock("0.0.0.0", 53, "systemd-resolve", proto=Proto.UDP, state=SocketState.UNCONN)
    assert len(evaluate(snapshot("web1", public_dns, groups=("web",)), LISTS)) == 1


def test_connected_sockets_are_not_listeners() -> None:
    outgoing = sock("10.0.0.5", 41000, "curl", state=SocketState.ESTABLISHED)
    assert evaluate(snapshot("web1", outgoing, groups=("web",)), LISTS) == []


def test_owner_unknown_is_covered_by_an_entry_with_a_matching_port_only() -> None:
    covered = unknown_owner("0.0.0.0", 22)
    uncovered = unknown_owner("0.0.0.0", 8443)
    host = snapshot(
        "web1", covered, uncovered, groups=("web",), privilege=Privilege.UNPRIVILEGED
    )  # fmt: skip
    [finding] = evaluate(host, LISTS)
    assert finding.socket == uncovered
    assert "a process nobody could name listens on 0.0.0.0:" in finding.message
    assert "owner unknown: audited without privilege" in finding.message


def test_owner_note_names_the_tool_when_root_could_not_see_owners() -> None:
    host = snapshot(
        "edge1", unknown_owner("0.0.0.0", 8443), groups=("web",), tool=Tool.PROC
    )  # fmt: skip
    [finding] = evaluate(host, LISTS)
    assert "(owner unknown: /proc/net names no processes, so judged by port alone)" in (
        finding.message
    )


def _udp(port: int, process: str | None = "host", *, known: bool = True) -> Socket:
    return sock(
        "0.0.0.0", port, process, proto=Proto.UDP, state=SocketState.UNCONN, send_q=0,
        owner_known=known,
    )  # fmt: skip


def test_a_udp_socket_on_an_ephemeral_port_says_how_to_allow_a_client() -> None:
    # `host` (a DNS lookup) sends from a port the kernel picked: a new finding every night
    # until the policy allows that client; the finding says how, and stays a finding.
    host = snapshot("web1", *WEB_LISTENERS, _udp(50305), groups=("web",))
    [finding] = evaluate(host, LISTS)
    assert "host listens on 0.0.0.0:50305/udp" in finding.message
    hint = (
        "; port 50305 is in Linux's default ephemeral range (32768-60999): if host is a "
        "client there "
        "(a DNS lookup, an NTP query), its port changes every run; allow it with "
        '{process: "host", proto: udp, port: "32768-60999"}'
    )
    assert hint in finding.message
    client = '\n          - {process: host, proto: udp, port: "32768-60999"}'
    allowed = policy(LISTS_TEXT.replace("port: [80, 443]}", "port: [80, 443]}" + client))
    assert evaluate(host, allowed) == []


def test_the_client_hint_follows_the_hosts_own_ephemeral_range() -> None:
    """A busy host widened ``ip_local_port_range``: its clients' ports are outside Linux's
    default, and the default's entry would not allow them."""
    wide = snapshot("web1", *WEB_LISTENERS, _udp(20000), groups=("web",),
                    ephemeral_ports=(1024, 65535))  # fmt: skip
    [finding] = evaluate(wide, LISTS)
    assert "port 20000 is in the host's ephemeral range (1024-65535)" in finding.message
    assert '{process: "host", proto: udp, port: "1024-65535"}' in finding.message
    narrow = snapshot("web1", *WEB_LISTENERS, _udp(50305), groups=("web",),
                      ephemeral_ports=(40000, 50000))  # fmt: skip
    [finding] = evaluate(narrow, LISTS)
    assert "ephemeral range" not in finding.message, "50305 is no client port on this host"


def test_no_client_hint_outside_the_ephemeral_range_for_tcp_or_for_unknown_owners() -> None:
    others = (
        _udp(5353, "avahi-daemon"),  # a service's own port
        _udp(32767),
        _udp(61000),
        sock("0.0.0.0", 50000, "java"),  # TCP LISTEN on a high port is a server
        _udp(40000, None, known=False),  # nobody could name it: allowing by port would hide
    )
    findings = evaluate(snapshot("web1", *WEB_LISTENERS, *others, groups=("web",)), LISTS)
    assert len(findings) == len(others)
    assert not any("ephemeral range" in f.message for f in findings)


@pytest.mark.parametrize(
    "name", ["!bang", "*alias", "@at", "%pct", "#c", 'say "hi"', "x, port: 1", "yes", "123",
             "null", "~", "[x]", "{a}", "caf\u00e9", "back\\slash"],
)  # fmt: skip
def test_the_suggested_entry_pastes_into_a_policy_as_that_name(name: str) -> None:
    host = snapshot("web1", *WEB_LISTENERS, _udp(40001, name), groups=("web",))
    [finding] = evaluate(host, LISTS)
    entry = finding.message.split("allow it with ")[1].split(". Rule")[0]
    allowed = policy(
        LISTS_TEXT.replace("port: [80, 443]}", "port: [80, 443]}\n          - " + entry)
    )
    assert evaluate(host, allowed) == [], entry


def test_a_name_netstat_may_have_cut_is_flagged_in_the_hint() -> None:
    # "91500/dovecot/imap-" fills netstat's 19 columns: next night, with another PID, the
    # cut falls elsewhere ("915/dovecot/imap-lo"), and an entry naming "imap-" no longer holds.
    cut = sock("0.0.0.0", 40002, "dovecot/imap-", proto=Proto.UDP, state=SocketState.UNCONN,
               send_q=0, pid=91500, tool=Tool.NETSTAT)  # fmt: skip
    [finding] = evaluate(snapshot("web1", *WEB_LISTENERS, cut, groups=("web",)), LISTS)
    assert "the listing may have cut that name: write the program's whole name" in finding.message
    [whole] = evaluate(snapshot("web1", *WEB_LISTENERS, _udp(40003), groups=("web",)), LISTS)
    assert "may have cut" not in whole.message
