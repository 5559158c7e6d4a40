"""bind-scope ``allow:`` entries: a CIDR with host bits or an impossible interface name is an
error at its own line when the policy is loaded, never silently widened or kept."""

from __future__ import annotations

from pathlib import Path

import pytest

from fleetaudit.errors import PolicyError
from fleetaudit.policy import load_policy
from fleetaudit.policy.rules import BindScopeRule

POLICY = """\
version: 1
rules:
  - id: r
    kind: bind-scope
    severity: high
    description: d
    match: {port: 3306}
    allow:
      - loopback
      - %s
"""
#  the entry under test is on line 10, column 9


def load(tmp_path: Path, entry: str) -> BindScopeRule:
    path = tmp_path / "p.yaml"
    path.write_text(POLICY % entry)
    rule = load_policy(path).rules[0]
    assert isinstance(rule, BindScopeRule)
    return rule


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("10.0.0.1/8", "'10.0.0.1/8': host bits set; did you mean 10.0.0.0/8?"),
        ("'fd00::1/8'", "'fd00::1/8': host bits set; did you mean fd00::/8?"),
        ("10.0.0.0/33", "'10.0.0.0/33' is not a valid CIDR: '33' is not a valid netmask"),
        ("'fd00::/129'", "'fd00::/129' is not a valid CIDR: '129' is not a valid netmask"),
        ("10.0.0.0/x", "'10.0.0.0/x' is not a valid CIDR: 'x' is not a valid netmask"),
        ("lookback", "'lookback' is neither a scope (loopback"),
        ('{interface: "eth 0"}', "interface name 'eth 0' contains whitespace, '/' or ':'"),
        ("{interface: a/b}", "interface name 'a/b' contains whitespace, '/' or ':'"),
        ("{interface: 'eth0:1'}", "interface name 'eth0:1' contains whitespace, '/' or ':'"),
        ("{interface: '.'}", "'.' cannot be an interface name"),
        ("{interface: '..'}", "'..' cannot be an interface name"),
        ("{interface: abcdefghijklmnop}", "'abcdefghijklmnop' is longer than 15 bytes"),
        ("{interface: éééééééé}", "is longer than 15 bytes"),  # 8 characters, 16 bytes
        ("{interface: ''}", "an interface name cannot be empty"),
        ("{iface: eth0}", "a mapping in allow is {interface: NAME}"),
        ("5", "5 is not a scope, a CIDR or {interface: NAME}"),
    ],
)
def test_bad_entries_are_errors_at_their_line(tmp_path: Path, entry: str, message: str) -> None:
    with pytest.raises(PolicyError) as caught:
        load(tmp_path, entry)
    error = caught.value
    assert (error.line, error.column, error.key) == (10, 9, "rules.0.allow.1")
    assert message in error.message
    assert str(error).startswith(f"{tmp_path / 'p.yaml'}:10:9: rules.0.allow.1: ")


@pytest.mark.parametrize(
    ("entry", "text"),
    [
        ("10.0.0.0/8", "10.0.0.0/8"),
        ("10.1.2.3", "10.1.2.3/32"),
        ("'fd00::/8'", "fd00::/8"),
        ("{interface: eth0}", "eth0"),
        ("{interface: enp0s31f6.1234}", "enp0s31f6.1234"),  # 15 bytes: the longest allowed
    ],
)
def test_good_entries_load(tmp_path: Path, entry: str, text: str) -> None:
    allowed = load(tmp_path, entry).allow[1]
    assert text == str(getattr(allowed, "interface", allowed))
