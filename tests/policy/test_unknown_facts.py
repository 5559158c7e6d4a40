"""Sockets the listing leaves in doubt: an owner nobody could see, an IPv4 reach no tool
showed. A negated process condition is judged by port like a positive one; an unknown IPv4
reach counts as IPv4 where a match leads to a finding and not where it excuses a socket."""

from datetime import date

import pytest

from fleetaudit.model import HostSnapshot, Privilege, Socket, Tool
from fleetaudit.parse import parse_capture
from fleetaudit.policy import evaluate
from fleetaudit.policy.explain import explain_sockets
from fleetaudit.policy.matchers import Lean, SocketMatch
from tests.captures import listeners, sockets
from tests.factories import snapshot, sock
from tests.policy.builders import policy, unknown_owner

TODAY = date(2026, 11, 24)
USER = "ss-tuanp-user"  # a real listing taken as nobody: no owner visible at all
# The same dual-stack [::]:9000 read by each tool: ss shows v6only:0, the others nothing.
V4_REACH_SHOWN = ("ss-tuanpe-root",)
V4_REACH_UNKNOWN = ("netstat-tuanpeW-root", "netstat-tulnp", "proc-net")


def match(**keys: object) -> SocketMatch:
    return SocketMatch.model_validate(keys)


def rule_policy(kind: str, body: str) -> str:
    return f"""
    version: 1
    rules:
      - {{id: r, kind: {kind}, severity: critical, description: doubt errs towards reporting,
         {body}}}
    """


def user_snapshot() -> HostSnapshot:
    return snapshot(USER, *sockets(USER), privilege=Privilege.UNPRIVILEGED)


def tool_of(name: str) -> Tool:
    return Tool.PROC if name.startswith("proc") else Tool(name.split("-")[0])


def capture_snapshot(name: str) -> HostSnapshot:
    return snapshot(name, *sockets(name), tool=tool_of(name))


# --- 1. negated process conditions on owner-unknown sockets ---------------------------------


def test_a_port_decides_a_negated_process_condition_like_a_positive_one() -> None:
    hidden = unknown_owner("0.0.0.0", 3306)
    assert match(port=3306, **{"not": {"process": "nginx"}}).decide(hidden) is True
    assert match(port=3306, process="mysqld").decide(hidden) is True  # the positive twin


def test_without_a_port_a_negated_process_condition_stays_undecided() -> None:
    hidden = unknown_owner("0.0.0.0", 3306)
    assert match(scope="any", **{"not": {"process": ["sshd", "nginx"]}}).decide(hidden) is None


def test_each_not_turns_the_port_stand_in_around() -> None:
    hidden = unknown_owner("0.0.0.0", 3306)
    twice = match(port=3306, **{"not": {"not": {"process": "mysqld"}}})
    assert twice.decide(hidden) is True


def test_the_nearest_port_names_the_program() -> None:
    # "web ports, except nginx on 80": a hidden :80 is judged as nginx by the inner port
    web = match(port=[80, 8080], **{"not": {"port": 80, "process": "nginx"}})
    assert web.decide(unknown_owner("0.0.0.0", 80)) is False
    assert web.decide(unknown_owner("0.0.0.0", 8080)) is True


def test_forbidden_port_not_process_flags_a_real_owner_unknown_listener() -> None:
    rules = policy(rule_policy("forbidden", "match: {port: 6000, not: {process: Xorg}}"))
    [finding] = evaluate(user_snapshot(), rules, TODAY)
    assert finding.socket is not None and finding.socket.endpoint == "0.0.0.0:6000"
    assert "judged by port alone" in finding.message


def test_bind_scope_port_not_process_flags_an_owner_unknown_wildcard() -> None:
    body = "match: {port: 3306, not: {process: nginx}}, allow: [loopback]"
    rules = policy(rule_policy("bind-scope", body))
    hidden = snapshot("db1", unknown_owner("0.0.0.0", 3306), privilege=Privilege.UNPRIVILEGED)
    assert len(evaluate(hidden, rules, TODAY)) == 1


def test_allowlist_port_not_process_covers_an_owner_unknown_listener_and_explain_says_why() -> None:
    rules = policy(rule_policy("allowlist", "allow: [{port: 8080, not: {process: nginx}}]"))
    host = user_snapshot()
    findings = evaluate(host, rules, TODAY)
    assert all(f.socket is None or f.socket.local_port != 8080 for f in findings)
    lines = explain_sockets(rules, host, findings)
    block = lines[lines.index("  tcp LISTEN 0.0.0.0:8080 (owner unknown)") + 1]
    assert "allowed by r entry 1 (owner unknown: judged by port alone)" in block


def test_explain_says_which_rule_could_not_judge_an_owner_unknown_socket() -> None:
    rules = policy(rule_policy("forbidden", "match: {scope: any, not: {process: [sshd, nginx]}}"))
    host = user_snapshot()
    findings = evaluate(host, rules, TODAY)
    lines = explain_sockets(rules, host, findings)
    block = lines[lines.index("  tcp LISTEN 0.0.0.0:8080 (owner unknown)") + 1]
    assert "r could not judge it: owner unknown and no port to judge it by" in block


def test_explain_says_which_rule_could_not_judge_a_socket_another_rule_failed() -> None:
    rules = policy(
        """
        version: 1
        rules:
          - {id: a, kind: forbidden, description: d, severity: high,
             match: {port: 8080, not: {process: nginx}}}
          - {id: b, kind: forbidden, description: d, severity: high,
             match: {scope: any, not: {process: sshd}}}
        """
    )
    host = user_snapshot()
    findings = evaluate(host, rules, TODAY)
    lines = explain_sockets(rules, host, findings)
    at = lines.index("  tcp LISTEN 0.0.0.0:8080 (owner unknown)")
    assert lines[at + 1].startswith("    FAIL   a (high)")
    assert lines[at + 2] == (
        "    also   b could not judge it: owner unknown and no port to judge it by, so not matched"
    )


# --- 2. family: ipv4 when the IPv4 reach is unknown, and IPv4-mapped addresses ----------------


@pytest.mark.parametrize("name", V4_REACH_SHOWN + V4_REACH_UNKNOWN)
def test_forbidden_ipv4_flags_the_dual_stack_wildcard_whatever_the_tool(name: str) -> None:
    rules = policy(rule_policy("forbidden", "match: {family: ipv4, port: 9000, proto: tcp}"))
    [finding] = evaluate(capture_snapshot(name), rules, TODAY)
    assert finding.socket is not None and finding.socket.local_address == "::"


@pytest.mark.parametrize("name", V4_REACH_UNKNOWN)
def test_bind_scope_ipv4_selects_a_wildcard_of_unknown_reach(name: str) -> None:
    body = "match: {family: ipv4, port: 9000, proto: tcp}, allow: [loopback]"
    findings = evaluate(capture_snapshot(name), policy(rule_policy("bind-scope", body)), TODAY)
    assert [f.socket.local_port for f in findings if f.socket] == [9000]


@pytest.mark.parametrize(("name", "covered"), [(n, True) for n in V4_REACH_SHOWN]
                         + [(n, False) for n in V4_REACH_UNKNOWN])  # fmt: skip
def test_allowlist_ipv4_never_excuses_a_wildcard_of_unknown_reach(name: str, covered: bool) -> None:
    rules = policy(rule_policy("allowlist", "allow: [{family: ipv4, port: 9000}]"))
    findings = evaluate(capture_snapshot(name), rules, TODAY)
    flagged = [f.socket.local_port for f in findings if f.socket and f.socket.proto.value == "tcp"]
    assert (9000 not in flagged) is covered


@pytest.mark.parametrize("name", V4_REACH_UNKNOWN)
def test_each_not_turns_the_lean_around(name: str) -> None:
    [wildcard] = listeners(name, 9000, "tcp")
    v6_only = match(port=9000, **{"not": {"family": "ipv4"}})
    assert v6_only.matches(wildcard, Lean.REPORT)  # "forbidden when IPv6-only": may be
    assert not v6_only.matches(wildcard, Lean.EXCUSE)  # "allowed when IPv6-only": not known


def test_a_waiver_for_ipv4_does_not_cover_a_wildcard_of_unknown_reach() -> None:
    rules = policy(
        """
        version: 1
        rules:
          - {id: r, kind: forbidden, severity: high, description: no port 9000,
             match: {port: 9000, proto: tcp}}
        waivers:
          - {rule: r, match: {family: ipv4}, reason: IPv4 is firewalled, expires: 2027-01-01}
        """
    )
    [finding] = evaluate(capture_snapshot("netstat-tuanpeW-root"), rules, TODAY)
    assert not finding.waived


def mapped(address: str = "::ffff:198.51.100.5") -> Socket:
    return sock(address, 513, "rlogind")


@pytest.mark.parametrize("lean", list(Lean))
def test_an_ipv4_mapped_address_counts_as_ipv4_everywhere(lean: Lean) -> None:
    assert match(family="ipv4").matches(mapped(), lean)
    assert not match(family="ipv4").matches(sock("2001:db8::5", 513, "rlogind"), lean)


def test_an_ipv4_mapped_rlogin_is_forbidden_and_allowed_as_ipv4() -> None:
    forbidden = policy(rule_policy("forbidden", "match: {family: ipv4, port: 513}"))
    allowlist = policy(rule_policy("allowlist", "allow: [{family: ipv4, port: 513}]"))
    host = snapshot("legacy1", mapped())
    assert len(evaluate(host, forbidden, TODAY)) == 1
    assert evaluate(host, allowlist, TODAY) == []


# Real ss -tuanpe lines (QA, in a namespace): wildcards bound to lo with SO_BINDTODEVICE, and
# listeners on IPv4-mapped addresses.
DEVICE_AND_MAPPED = """\
Netid State  Recv-Q Send-Q      Local Address:Port  Peer Address:PortProcess
tcp   LISTEN 0      8            [::]%lo:8022          [::]:*    users:(("python3",pid=1651,fd=3)) ino:5937783 sk:198ee cgroup:unreachable:1 v6only:1 <->
tcp   LISTEN 0      8               *%lo:8012             *:*    users:(("python3",pid=31874,fd=3)) ino:5932955 sk:18ba8 cgroup:unreachable:1 v6only:0 <->
tcp   LISTEN 0      64 [::ffff:10.0.0.1]:8010             *:*    users:(("python3",pid=14111,fd=14)) ino:5901235 sk:197b4 cgroup:unreachable:1 v6only:0 <->
tcp   LISTEN 0      8    [::ffff:0.0.0.0]:8015             *:*    users:(("python3",pid=31874,fd=6)) ino:5932958 sk:18ba9 cgroup:unreachable:1 v6only:0 <->
"""  # noqa: E501


def device_and_mapped() -> dict[int, Socket]:
    _, parsed = parse_capture(DEVICE_AND_MAPPED, tool=Tool.SS, privileged=True)
    assert not parsed.errors
    return {s.local_port: s for s in map(Socket.from_raw, parsed.sockets) if s.local_port}


def test_a_wildcard_bound_to_a_device_keeps_what_ss_said_of_ipv4() -> None:
    found = device_and_mapped()
    assert (found[8022].accepts_ipv4, found[8012].accepts_ipv4) == (False, True)
    rules = policy(rule_policy("forbidden", "match: {family: ipv4, port: [8012, 8022]}"))
    findings = evaluate(snapshot("lo-bound", *found.values()), rules, TODAY)
    assert [(f.socket.local_port, "assumed" in f.message) for f in findings if f.socket] == [
        (8012, False)  # the v6-only [::]%lo:8022 takes no IPv4, and nothing was assumed
    ]


def test_a_listener_on_an_ipv4_mapped_address_accepts_ipv4() -> None:
    found = device_and_mapped()
    assert found[8010].accepts_ipv4 is True and found[8015].accepts_ipv4 is True


# --- 3. a uid the listing does not show ------------------------------------------------------

# The same root-owned 0.0.0.0:8080 with its uid shown (-e) and not (no -e).
UID_SHOWN = ("ss-tuanpe-root", "netstat-tuanpeW-root")
UID_UNKNOWN = ("ss-tunap", "netstat-tulnp")


@pytest.mark.parametrize("name", UID_SHOWN + UID_UNKNOWN)
def test_a_uid_condition_errs_towards_reporting_when_the_listing_shows_no_uid(name: str) -> None:
    """Without -e (and always on busybox) `uid: 0` never matched: a forbidden rule on
    root's listeners reported nothing, and an allowlist entry `not: {uid: 0}` excused
    root's listener (QA)."""
    host = capture_snapshot(name)
    [root_listener] = [s for s in host.listeners if s.local_port == 8080]
    assert root_listener.uid == (0 if name in UID_SHOWN else None)
    forbidden = policy(rule_policy("forbidden", "match: {port: 8080, uid: 0}"))
    assert [f.socket.local_port for f in evaluate(host, forbidden, TODAY) if f.socket] == [8080]
    everything_else = '{port: ["1-8079", "8081-65535"]}'
    allowlist = policy(
        rule_policy("allowlist", f"allow: [{{port: 8080, not: {{uid: 0}}}}, {everything_else}]")
    )
    assert [f.socket.local_port for f in evaluate(host, allowlist, TODAY) if f.socket] == [8080]


# --- 4. what the findings say of those doubts ------------------------------------------------

ASSUMED_UID = "(the listing does not show its uid: the rule assumed the worst)"
ASSUMED_V4 = "(the listing does not show whether it also takes IPv4: the rule assumed the worst)"


@pytest.mark.parametrize("name", UID_SHOWN + UID_UNKNOWN)
def test_a_finding_that_rests_on_an_unshown_uid_says_so(name: str) -> None:
    """QA: on a listing without -e, `forbidden: {uid: 65534}` reported every listener as if
    it ran as nobody, in words that read as a fact; a uid seen stays a plain finding."""
    host = capture_snapshot(name)
    rules = policy(rule_policy("forbidden", "match: {port: 8080, uid: 0}"))
    [finding] = evaluate(host, rules, TODAY)
    assert (ASSUMED_UID in finding.message) is (name in UID_UNKNOWN)
    allowlist = policy(
        rule_policy(
            "allowlist",
            'allow: [{port: 8080, not: {uid: 0}}, {port: "1-8079"}, {port: "8081-65535"}]',
        )
    )
    [unexpected] = evaluate(host, allowlist, TODAY)
    assert (ASSUMED_UID in unexpected.message) is (name in UID_UNKNOWN)


@pytest.mark.parametrize("name", V4_REACH_SHOWN + V4_REACH_UNKNOWN)
def test_a_finding_that_rests_on_an_unshown_ipv4_reach_says_so(name: str) -> None:
    rules = policy(rule_policy("forbidden", "match: {family: ipv4, port: 9000, proto: tcp}"))
    [finding] = evaluate(capture_snapshot(name), rules, TODAY)
    assert (ASSUMED_V4 in finding.message) is (name in V4_REACH_UNKNOWN)
    assert "judged by port alone" not in finding.message


def test_judged_by_port_alone_only_when_the_rule_names_a_process() -> None:
    """QA: `match: {uid: 65534}` on an owner-unknown socket said "judged by port alone"."""
    host = user_snapshot()
    by_uid = policy(rule_policy("forbidden", "match: {port: 6000, proto: tcp, uid: 65534}"))
    [finding] = evaluate(host, by_uid, TODAY)
    assert "owner unknown" not in finding.message
    by_process = policy(rule_policy("forbidden", "match: {port: 6000, process: Xorg}"))
    [finding] = evaluate(host, by_process, TODAY)
    assert "so judged by port alone" in finding.message


def test_an_ipv6_only_wildcard_is_not_described_as_any_address() -> None:
    """QA: a v6only [::]:3306 read "(any address)", the words of 0.0.0.0."""
    [v6_only] = [
        s for s in sockets("ss-tuanpe-root") if s.local_address == "::" and s.accepts_ipv4 is False
    ][:1]
    rules = policy(
        rule_policy(
            "forbidden", f"match: {{port: {v6_only.local_port}, proto: {v6_only.proto.value}}}"
        )
    )
    [finding] = evaluate(snapshot("h", v6_only), rules, TODAY)
    assert "(any IPv6 address)" in finding.message


def test_a_waiver_left_unapplied_for_an_unshown_fact_says_so() -> None:
    """QA: a waiver matching `uid:` (a listing without -e) or `family: ipv4` (netstat's
    `:::PORT`) did not apply, rightly, but neither the finding nor explain said why: the
    night exited 1 with the waiver in the policy."""
    rules = policy(
        """
        version: 1
        rules:
          - {id: r, kind: forbidden, severity: high, description: d, match: {port: [8080, 9000]}}
        waivers:
          - {rule: r, match: {port: 8080, uid: 0}, reason: root's proxy, expires: 2027-01-01}
          - {rule: r, match: {port: 9000, family: ipv4}, reason: firewalled, expires: 2027-01-01}
        """
    )
    unshown = {
        f.socket.local_port: f
        for f in evaluate(capture_snapshot("netstat-tulnp"), rules, TODAY)
        if f.socket and f.socket.proto.value == "tcp"
    }
    assert not unshown[8080].waived and unshown[8080].message.endswith(
        "Not waived: the waiver of 'r' (root's proxy) matches on its uid, which the listing "
        "does not show."
    )
    assert not unshown[9000].waived and unshown[9000].message.endswith(
        "Not waived: the waiver of 'r' (firewalled) matches on whether it also takes IPv4, "
        "which the listing does not show."
    )
    shown = {
        f.socket.local_port: f
        for f in evaluate(capture_snapshot("ss-tuanpe-root"), rules, TODAY)
        if f.socket and f.socket.proto.value == "tcp"
    }
    assert shown[8080].waived and "Not waived" not in shown[8080].message
    expired = policy(
        """
        version: 1
        rules:
          - {id: r, kind: forbidden, severity: high, description: d, match: {port: 8080}}
        waivers:
          - {rule: r, match: {port: 8080, uid: 0}, reason: gone, expires: 2026-01-01}
        """
    )
    [finding] = [
        f
        for f in evaluate(capture_snapshot("netstat-tulnp"), expired, TODAY)
        if f.socket and f.socket.proto.value == "tcp"
    ]
    assert "Not waived" not in finding.message  # an expired waiver would not apply anyway
