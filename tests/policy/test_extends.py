"""extends/remove/override: a site policy built on a base, with errors at their lines."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from fleetaudit.errors import PolicyError
from fleetaudit.policy import load_default_policy, load_policy

SHIPPED = Path(__file__).resolve().parents[2] / "policies"

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


def test_removing_a_rule_drops_the_bases_waivers_of_it(tmp_path: Path) -> None:
    write(tmp_path, "base.yaml", BASE)
    site = write(tmp_path, "site.yaml", "version: 1\nextends: base.yaml\nremove: [a]\n")
    policy = load_policy(site)
    assert [r.id for r in policy.rules] == ["b", "c"]
    assert policy.waivers == () and policy.waiver_origins == ()


def test_extends_the_builtin_default(tmp_path: Path) -> None:
    site = write(tmp_path, "site.yaml", "version: 1\nextends: default\nremove: [no-tftp]\n")
    ids = [r.id for r in load_policy(site).rules]
    assert ids == [r.id for r in load_default_policy().rules if r.id != "no-tftp"]


@pytest.mark.parametrize(
    ("site", "line", "fragment"),
    [
        ("version: 1\nextends: base.yaml\nremove: [zzz]\n", 3, "has no rule 'zzz'"),
        (  # the new rule was dropped with the base's, silently (QA)
            "version: 1\nextends: base.yaml\nremove: [c, a]\nrules:\n"
            "  - {id: a, kind: forbidden, severity: critical, description: x, match: {port: 80}}\n",
            3,
            "'a' is also defined under rules:",
        ),
        ("version: 1\nremove: [a]\n", 2, "needs extends"),
        ("version: 1\nextends: missing.yaml\n", 2, "cannot read 'missing.yaml'"),
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


def test_an_unreadable_base_is_an_error_at_the_extends_line(tmp_path: Path) -> None:
    site = write(tmp_path, "site.yaml", "version: 1\nname: s\nextends: nosuch\n")
    with pytest.raises(PolicyError) as caught:
        load_policy(site)
    error = caught.value
    assert (error.path, error.line, error.column, error.key) == (str(site), 3, 1, "extends")
    assert error.message.startswith(
        f"cannot read 'nosuch' (resolved to {tmp_path.resolve() / 'nosuch'}): "
        "No such file or directory; extends takes a file path relative to this policy file"
    )
    assert f"shipped policies: {SHIPPED / 'cis-approved-services.yaml'}" in error.message


def test_a_shipped_policy_name_is_not_a_base_but_the_error_gives_its_path(
    tmp_path: Path,
) -> None:
    site = write(tmp_path, "site.yaml", "version: 1\nextends: db-tier\n")
    with pytest.raises(PolicyError) as caught:
        load_policy(site)
    relative = os.path.relpath(SHIPPED / "db-tier.yaml", tmp_path.resolve())
    assert f"'db-tier' is a shipped policy: write `extends: {relative}`" in str(caught.value)
    write(tmp_path, "site.yaml", f"version: 1\nextends: {relative}\n")
    assert load_policy(site).rules == load_policy(SHIPPED / "db-tier.yaml").rules


def test_a_base_that_is_a_directory_or_not_text_is_named_at_the_extends_line(
    tmp_path: Path,
) -> None:
    (tmp_path / "dir").mkdir()
    (tmp_path / "bin.yaml").write_bytes(b"\xff\xfe\x00")
    for base, reason in (("dir", "Is a directory"), ("bin.yaml", "not UTF-8 text")):
        site = write(tmp_path, "site.yaml", f"version: 1\nextends: {base}\n")
        with pytest.raises(PolicyError) as caught:
            load_policy(site)
        assert caught.value.line == 2 and caught.value.message.endswith(reason)


def test_an_error_inside_the_base_still_names_the_base(tmp_path: Path) -> None:
    write(tmp_path, "base.yaml", "version: 1\nrules: [\n")
    site = write(tmp_path, "site.yaml", "version: 1\nextends: base.yaml\n")
    with pytest.raises(PolicyError) as caught:
        load_policy(site)
    assert caught.value.path == str(tmp_path.resolve() / "base.yaml")
