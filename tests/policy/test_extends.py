"""extends/remove/override: a site policy built on a base, with errors at their lines."""

from __future__ import annotations

from pathlib import Path

import pytest

from fleetaudit.errors import PolicyError
from fleetaudit.policy import load_default_policy, load_policy

BASE = """\
version: 1
name: base
rules:
  - {id: a, kind: forbidden, severity: high, description: a, match: {port: 23}}
  - {id: b, kind: forbidden, severity: high, description: b, match: {port: 69}}
  - {id: c, kind: forbidden, severity: low, description: c, match: {port: 514}}
waivers:
  - {rule: a, reason: inherited, expires: 2999-01-01}
"""


def write(tmp: Path, name: str, text: str) -> Path:
    path = tmp / name
    path.write_text(text)
    return path


def test_override_in_place_add_and_remove(tmp_path: Path) -> None:
    write(tmp_path, "base.yaml", BASE)
    site = write(
        tmp_path,
        "site.yaml",
        "version: 1\nextends: base.yaml\nremove: [c]\nrules:\n"
        "  - {id: new, kind: forbidden, severity: low, description: n, match: {port: 7}}\n"
        "  - {id: a, kind: forbidden, severity: critical, description: a2, match: {port: 23}}\n",
    )
    policy = load_policy(site)
    assert [(r.id, r.severity.value) for r in policy.rules] == [
        ("a", "critical"),
        ("b", "high"),
        ("new", "low"),
    ]
    assert [w.reason for w in policy.waivers] == ["inherited"]
    assert policy.name == "site"


def test_extends_the_builtin_default(tmp_path: Path) -> None:
    site = write(tmp_path, "site.yaml", "version: 1\nextends: default\nremove: [no-tftp]\n")
    ids = [r.id for r in load_policy(site).rules]
    assert ids == [r.id for r in load_default_policy().rules if r.id != "no-tftp"]


@pytest.mark.parametrize(
    ("site", "line", "fragment"),
    [
        ("version: 1\nextends: base.yaml\nremove: [zzz]\n", 3, "has no rule 'zzz'"),
        ("version: 1\nremove: [a]\n", 2, "needs extends"),
        ("version: 1\nextends: missing.yaml\n", None, "cannot read file"),
        ("version: 1\nextends: site.yaml\n", 2, "cycle"),
        (
            "version: 1\nextends: base.yaml\nwaivers:\n"
            "  - {rule: c2, reason: r, expires: 2999-01-01}\n",
            4,
            "does not define",
        ),
    ],
)
def test_errors(tmp_path: Path, site: str, line: int | None, fragment: str) -> None:
    write(tmp_path, "base.yaml", BASE)
    path = write(tmp_path, "site.yaml", site)
    with pytest.raises(PolicyError) as caught:
        load_policy(path)
    assert fragment in str(caught.value)
    if line is not None:
        assert caught.value.line == line
