"""Policy lint: rules, entries, selectors and waivers that are valid but can never apply
(a match asking for sockets its kind never judges, a selector picking no inventory host,
a process match no port stands in for, what `extends:` changes silently)."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from fleetaudit.errors import PolicyError
from fleetaudit.inventory import load_inventory
from fleetaudit.policy import load_policy
from fleetaudit.policy.lint import LintWarning, lint
from fleetaudit.yamlsource import load_yaml

TODAY = date(2026, 11, 24)
COVERAGE = "  - {id: cov, kind: coverage, severity: medium, description: d}\n"
HEAD = "version: 1\nrules:\n" + COVERAGE
INVENTORY = (
    "hosts:\n"
    "  web1: {groups: [web], labels: {team: shop}}\n"
    "  web2: {groups: [web]}\n"
    "  db1: {groups: [db], labels: {team: payments}}\n"
)


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def found(path: Path, inventory: Path | None = None) -> list[tuple[str, int, str]]:
    """(file name, line, message) of every warning for the policy file at ``path``."""
    hosts = None if inventory is None else load_inventory(inventory)
    warnings = lint(load_policy(path), TODAY, hosts)
    return [_placed(path, warning) for warning in warnings]


def _placed(path: Path, warning: LintWarning) -> tuple[str, int, str]:
    source = Path(warning.source)
    line, _ = load_yaml(source, PolicyError).position(warning.loc)
    return source.name, line, warning.message


def rule(body: str, kind: str = "forbidden", rule_id: str = "r") -> str:
    return f"  - {{id: {rule_id}, kind: {kind}, severity: high, description: d, {body}}}\n"


# --- 1. matches a rule kind never looks at ---------------------------------------------


@pytest.mark.parametrize(
    ("kind", "body", "asked"),
    [
        ("forbidden", "match: {state: CLOSE_WAIT}", "state CLOSE_WAIT"),
        ("forbidden", "match: {port: 23, state: ESTABLISHED}", "state ESTABLISHED"),
        ("forbidden", "match: {proto: udp, state: LISTEN}", "proto udp with state LISTEN"),
        ("bind-scope", "match: {state: TIME_WAIT}, allow: [loopback]", "state TIME_WAIT"),
        ("backlog", "match: {proto: udp}", "proto udp"),
        ("queue", "recv_bytes: 10, match: {state: LISTEN}", "state LISTEN"),
        ("queue", "send_bytes: 10, match: {proto: udp}", "proto udp"),
        ("state-count", "state: TIME_WAIT, max: 1, match: {proto: udp}", "proto udp"),
        ("state-count", "state: CLOSE_WAIT, max: 1, match: {state: LISTEN}", "state LISTEN"),
    ],
)
def test_a_match_asking_for_sockets_its_kind_never_judges_is_named(
    tmp_path: Path, kind: str, body: str, asked: str
) -> None:
    path = write(tmp_path, "p.yaml", HEAD + rule(body, kind))
    [(name, line, message)] = found(path)
    assert (name, line) == ("p.yaml", 4)
    assert message.startswith(f"rule 'r': match can never hold: a rule of kind {kind} judges ")
    assert message.endswith(f"no such socket has {asked}")


@pytest.mark.parametrize(
    ("kind", "body"),
    [
        ("forbidden", "match: {port: 69, proto: udp, state: UNCONN}"),
        ("forbidden", "match: {port: 23, proto: tcp, state: LISTEN}"),
        ("forbidden", "match: {port: 23, state: [LISTEN, ESTABLISHED]}"),
        ("backlog", "match: {proto: tcp, state: LISTEN}"),
        ("queue", "recv_bytes: 10, match: {proto: udp, state: UNCONN}"),
        ("state-count", "state: ESTABLISHED, max: 1, match: {proto: udp}"),
        ("bind-scope", "match: {port: 3306}, allow: [any]"),  # `any`: wildcards only
        ("bind-scope", "match: {port: 3306, scope: [any, loopback]}, allow: [loopback]"),
    ],
)
def test_a_match_its_kind_can_see_gets_no_warning(tmp_path: Path, kind: str, body: str) -> None:
    assert found(write(tmp_path, "p.yaml", HEAD + rule(body, kind))) == []


def test_an_allowlist_entry_for_connections_is_named_with_its_number(tmp_path: Path) -> None:
    body = "allow: [{port: 22}, {port: 443, state: ESTABLISHED}]"
    path = write(tmp_path, "p.yaml", HEAD + rule(body, "allowlist"))
    [(_, line, message)] = found(path)
    assert line == 4
    assert message.startswith(
        "rule 'r': allow entry 2: match can never hold: a rule of kind allowlist"
    )


def test_a_match_without_a_condition_is_named(tmp_path: Path) -> None:
    """QA: a forbidden rule with `match: {}` reported every listener, and lint said
    nothing; an allowlist entry `{}` allows everything, so its rule never fires."""
    path = write(tmp_path, "p.yaml", HEAD + rule("match: {}", "forbidden"))
    [(_, line, message)] = found(path)
    assert line == 4
    assert message.startswith("rule 'r': match has no condition, so the rule reports every")
    path = write(tmp_path, "a.yaml", HEAD + rule("allow: [{port: 22}, {}]", "allowlist"))
    [(_, line, message)] = found(path)
    assert message == (
        "rule 'r': allow entry 2: it has no condition, so it allows every listener: the rule "
        "never fires"
    )
    assert found(write(tmp_path, "ok.yaml", HEAD + rule("match: {port: 23}", "forbidden"))) == []


@pytest.mark.parametrize(
    "body",
    [
        "match: {port: 3306}, allow: [loopback, private, link-local, public, any]",
        "match: {port: 3306, scope: loopback}, allow: [loopback, 10.0.0.0/8]",
    ],
)
def test_a_bind_scope_rule_allowing_every_scope_it_picks_can_never_fire(
    tmp_path: Path, body: str
) -> None:
    path = write(tmp_path, "p.yaml", HEAD + rule(body, "bind-scope"))
    [(_, line, message)] = found(path)
    assert line == 4 and "so the rule can never fire" in message


def test_a_waiver_match_its_rule_can_never_report_is_named(tmp_path: Path) -> None:
    text = (
        HEAD
        + rule("match: {port: 23}", rule_id="telnet")
        + "waivers:\n"
        + "  - {rule: telnet, match: {state: ESTABLISHED}, reason: r, expires: 2999-01-01}\n"
        + "  - {rule: cov, match: {port: 22}, reason: r, expires: 2999-01-01, gap: cut}\n"
        + "  - {rule: telnet, match: {port: 23}, reason: r, expires: 2999-01-01}\n"
    )
    warnings = found(write(tmp_path, "p.yaml", text))
    assert [(line, message.split(":")[0]) for _, line, message in warnings] == [
        (6, "waiver for 'telnet'"),
        (7, "waiver for 'cov'"),
    ]
    assert "findings of a coverage rule name no socket" in warnings[1][2]


# --- 3. process matches no port can stand in for -----------------------------------------


@pytest.mark.parametrize(
    ("kind", "body", "line"),
    [
        ("forbidden", "match: {process: in.telnetd}", 4),
        ("bind-scope", "match: {process: mysqld}, allow: [loopback]", 4),
        ("backlog", "match: {process: java}", 4),
        ("forbidden", "match: {scope: any, not: {process: sshd}}", 4),
    ],
)
def test_a_listener_rule_matching_by_process_only_says_to_add_a_port(
    tmp_path: Path, kind: str, body: str, line: int
) -> None:
    [(_, at, message)] = found(write(tmp_path, "p.yaml", HEAD + rule(body, kind)))
    assert at == line
    assert message.startswith("rule 'r': match names a process but no port: on a listing whose")
    assert "add the program's port" in message


@pytest.mark.parametrize(
    ("kind", "body"),
    [
        ("forbidden", "match: {process: in.telnetd, port: 23}"),
        ("forbidden", "match: {port: [80, 8080], not: {process: nginx}}"),
        # an unknown owner fails closed there: an unexpected-listener finding shows it
        ("allowlist", "allow: [{process: sshd}]"),
        # connections: the local port of an outgoing one is ephemeral, no stand-in
        ("state-count", "state: CLOSE_WAIT, max: 5, per: process, match: {process: java}"),
        ("queue", "recv_bytes: 10, match: {process: java}"),
    ],
)
def test_no_port_advice_where_a_port_is_given_or_would_be_wrong(
    tmp_path: Path, kind: str, body: str
) -> None:
    assert found(write(tmp_path, "p.yaml", HEAD + rule(body, kind))) == []


# --- 2. selectors that select no inventory host ----------------------------------------

EXCLUDES_NOTHING = (
    "so this exclusion excludes no host and the selector takes in hosts it was meant to skip"
)


@pytest.mark.parametrize(
    ("select", "message"),
    [
        (
            "{not: {groups: [dbb]}}",
            f"`not:` names group 'dbb', but the inventory has no group 'dbb', {EXCLUDES_NOTHING}",
        ),
        (
            "{not: {hosts: ['dbx*']}}",
            "`not:` names host matching 'dbx*', but the inventory has no host matching "
            f"'dbx*', {EXCLUDES_NOTHING}",
        ),
        (
            "{not: {labels: {team: payment}}}",
            "`not:` names host with label team=payment, but the inventory has no host with "
            f"label team=payment, {EXCLUDES_NOTHING}",
        ),
        (
            # the inventory has db: the exclusion still excludes its hosts
            "{not: {groups: [db, cahce]}}",
            "`not:` names group 'cahce', but the inventory has no group 'cahce': that entry "
            "excludes nothing (the others still do); if it is a typo, hosts meant to be "
            "skipped are judged",
        ),
        ("{labels: {team: nobody}}", "no host with label team=nobody in the inventory"),
        (
            "{groups: [web], hosts: ['db*']}",
            "select picks no inventory host: its conditions hold together for none",
        ),
        (
            "{groups: [web], not: {groups: [web]}}",
            "select picks no inventory host: its conditions hold together for none",
        ),
        (
            "{labels: {team: shop}, not: {hosts: [web1]}}",
            "select picks no inventory host: its conditions hold together for none",
        ),
    ],
)
def test_a_selector_that_selects_no_host_as_meant_is_named(
    tmp_path: Path, select: str, message: str
) -> None:
    path = write(tmp_path, "p.yaml", HEAD + rule(f"select: {select}, match: {{port: 23}}"))
    assert found(path, write(tmp_path, "inv.yaml", INVENTORY)) == [
        ("p.yaml", 4, f"rule 'r': {message}")
    ]


@pytest.mark.parametrize(
    "select",
    [
        "{not: {groups: [db]}}",
        "{groups: [web], not: {hosts: [web1]}}",
        "{labels: {team: payments}, not: {labels: {team: shop}}}",
        "{hosts: ['web*', 'db1'], groups: [db]}",
    ],
)
def test_a_selector_selecting_hosts_gets_no_warning(tmp_path: Path, select: str) -> None:
    path = write(tmp_path, "p.yaml", HEAD + rule(f"select: {select}, match: {{port: 23}}"))
    assert found(path, write(tmp_path, "inv.yaml", INVENTORY)) == []


def test_a_waiver_selecting_no_host_is_named(tmp_path: Path) -> None:
    text = (
        HEAD
        + rule("match: {port: 23}", rule_id="telnet")
        + "waivers:\n"
        + "  - rule: telnet\n    select: {hosts: [db3]}\n    reason: r\n    expires: 2999-01-01\n"
    )
    path = write(tmp_path, "p.yaml", text)
    assert found(path, write(tmp_path, "inv.yaml", INVENTORY)) == [
        ("p.yaml", 7, "waiver for 'telnet': no host matching 'db3' in the inventory")
    ]
    assert found(path) == []  # without an inventory nothing is known about hosts


# --- 4. extends ---------------------------------------------------------------------------

BASE = (
    HEAD
    + rule("match: {port: 23}", rule_id="no-telnet")
    + rule("allow: [{port: 22}, {port: 8080}]", "allowlist", "base-allow")
)


def test_a_rule_replacing_a_base_rule_of_another_kind_is_named(tmp_path: Path) -> None:
    write(tmp_path, "base.yaml", BASE)
    child = write(
        tmp_path,
        "child.yaml",
        "version: 1\nextends: base.yaml\nremove: [base-allow]\nrules:\n"
        + rule("allow: [{port: 22}]", "allowlist", "no-telnet"),
    )
    assert found(child) == [
        (
            "child.yaml",
            5,
            "rule 'no-telnet' (kind allowlist) replaces the base policy's rule of the same id, "
            "of kind forbidden, so the base's check is gone rather than refined; give this "
            "rule a new id (and add 'no-telnet' to `remove:` if dropping the base rule is meant)",
        )
    ]


def test_an_allowlist_unioned_with_a_base_allowlist_is_named(tmp_path: Path) -> None:
    write(tmp_path, "base.yaml", BASE)
    strict = rule("select: {groups: [web]}, allow: [{port: 443}]", "allowlist", "web-strict")
    child = write(tmp_path, "child.yaml", "version: 1\nextends: base.yaml\nrules:\n" + strict)
    assert found(child) == [
        (
            "child.yaml",
            4,
            "allowlist 'web-strict' shares hosts with the base policy's allowlist "
            "'base-allow'; allowlists that select one host are unioned, so every listener "
            "'base-allow' allows passes there too; to judge those hosts by 'web-strict' "
            "alone, add 'base-allow' to `remove:`",
        )
    ]
    removed = "version: 1\nextends: base.yaml\nremove: [base-allow]\nrules:\n" + strict
    assert found(write(tmp_path, "child.yaml", removed)) == []


def test_allowlists_share_hosts_by_inventory_when_there_is_one(tmp_path: Path) -> None:
    base = HEAD + rule("select: {hosts: ['db*']}, allow: [{port: 22}]", "allowlist", "db-base")
    write(tmp_path, "base.yaml", base)
    child = write(
        tmp_path,
        "child.yaml",
        "version: 1\nextends: base.yaml\nrules:\n"
        + rule("select: {groups: [db]}, allow: [{port: 5432}]", "allowlist", "db-strict"),
    )
    inventory = write(tmp_path, "inv.yaml", INVENTORY)
    assert [line for _, line, _ in found(child, inventory)] == [4]
    apart = write(tmp_path, "apart.yaml", "hosts:\n  db1: {groups: [web]}\n  w: {groups: [db]}\n")
    assert found(child, apart) == []
    # without an inventory, a glob and a group may well share a host: warned
    assert [line for _, line, _ in found(child)] == [4]


def test_allowlists_selecting_other_groups_are_not_unioned(tmp_path: Path) -> None:
    base = HEAD + rule("select: {groups: [db]}, allow: [{port: 22}]", "allowlist", "db-list")
    write(tmp_path, "base.yaml", base)
    child = write(
        tmp_path,
        "child.yaml",
        "version: 1\nextends: base.yaml\nrules:\n"
        + rule("select: {groups: [web]}, allow: [{port: 443}]", "allowlist", "web-list"),
    )
    assert found(child) == []


def test_extending_the_default_with_a_web_allowlist_names_both_base_lists(
    tmp_path: Path,
) -> None:
    child = write(
        tmp_path,
        "child.yaml",
        "version: 1\nextends: default\nrules:\n"
        + rule("select: {groups: [web]}, allow: [{port: 443}]", "allowlist", "shop"),
    )
    named = [re.findall(r"allowlist '([^']+)';", message) for _, _, message in found(child)]
    assert named == [["web-allowlist"], ["base-allowlist"]]


def test_replacing_a_base_allowlist_keeps_the_union_the_base_was_built_on(
    tmp_path: Path,
) -> None:
    """db-tier replaces the default's db-allowlist, which the default already unions with
    base-allowlist: no warning (the shipped policies lint clean, below)."""
    child = write(
        tmp_path,
        "child.yaml",
        "version: 1\nextends: default\nrules:\n"
        + rule("select: {groups: [db]}, allow: [{port: 5432}]", "allowlist", "db-allowlist"),
    )
    assert found(child) == []


# --- shipped policies and inventories ------------------------------------------------------

ROOT = Path(__file__).parents[2]
SHIPPED = [*sorted((ROOT / "policies").glob("*.yaml")), ROOT / "fleetaudit/data/default.yaml"]


@pytest.mark.parametrize("policy", SHIPPED, ids=lambda path: path.name)
def test_shipped_policies_get_no_new_warnings(policy: Path) -> None:
    assert found(policy) == []
    on_example = found(policy, ROOT / "inventories/example.yaml")
    if policy.name == "cis-approved-services.yaml":
        # a real finding: its bastion list selects a group the example inventory lacks
        assert on_example == [
            (policy.name, 56, "rule 'bastion-approved': no group 'bastion' in the inventory")
        ]
    else:
        assert on_example == []
