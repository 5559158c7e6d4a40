"""Policy values that used to load but meant something else: an empty value read as "no
condition", an integer ``expires`` read as a Unix timestamp; and the ways to name a file."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from fleetaudit.errors import PolicyError
from fleetaudit.policy import load_policy

ALLOWLIST = """\
version: 1
rules:
  - id: l
    kind: allowlist
    severity: high
    description: d
    allow:
      - {process: sshd, port: 22}
      - %s
"""


def load_error(tmp_path: Path, text: str, name: str = "p.yaml") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(PolicyError) as caught:
        load_policy(path)
    return str(caught.value)


@pytest.mark.parametrize(
    ("entry", "key"),
    [
        ("{process: mysqld, port: }", "port"),
        ("{process: mysqld, scope: ~}", "scope"),
        ("{port: 3306, proto: null}", "proto"),
        ("{process: , port: 3306}", "process"),
        ("{port: 3306, not: {scope: ~}}", "not.scope"),
        ("{port: [3306, ~]}", "port.1"),
    ],
)
def test_an_empty_value_in_an_allow_entry_is_an_error_at_its_line(
    tmp_path: Path, entry: str, key: str
) -> None:
    text = load_error(tmp_path, ALLOWLIST % entry)
    assert text.startswith(f"{tmp_path / 'p.yaml'}:9:")
    assert f"rules.0.allow.1.{key}: empty value" in text


def test_an_empty_key_in_block_style_names_its_own_line(tmp_path: Path) -> None:
    text = load_error(
        tmp_path,
        "version: 1\nrules:\n  - id: f\n    kind: forbidden\n    severity: high\n"
        "    description: d\n    match:\n      process:\n      port: 23\n",
    )
    assert text.startswith(f"{tmp_path / 'p.yaml'}:8:7: rules.0.match.process: empty value")


def test_an_empty_value_in_a_base_policy_is_an_error_in_the_base_file(tmp_path: Path) -> None:
    (tmp_path / "base.yaml").write_text(
        "version: 1\nrules:\n  - {id: f, kind: forbidden, severity: high, description: d, "
        "match: {port: 23, scope: }}\n",
        encoding="utf-8",
    )
    text = load_error(tmp_path, "version: 1\nextends: base.yaml\n", name="child.yaml")
    assert text.startswith(f"{tmp_path / 'base.yaml'}:3:") and "rules.0.match.scope" in text


def test_an_integer_expiry_says_it_must_be_a_date(tmp_path: Path) -> None:
    text = load_error(
        tmp_path,
        "version: 1\nrules:\n  - {id: f, kind: forbidden, severity: high, description: d, "
        "match: {port: 23}}\nwaivers:\n  - {rule: f, reason: r, expires: 20261128}\n",
    )
    assert text == (
        f"{tmp_path / 'p.yaml'}:5:26: waivers.0.expires: expires must be a date, "
        "YYYY-MM-DD (not 20261128)"
    )


@pytest.mark.parametrize(
    ("expires", "ok"), [('"2026-11-28"', True), ("2026-11-28 10:00:00", False)]
)
def test_a_quoted_date_loads_and_a_timestamp_does_not(
    tmp_path: Path, expires: str, ok: bool
) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(
        "version: 1\nrules:\n  - {id: f, kind: forbidden, severity: high, description: d, "
        f"match: {{port: 23}}}}\nwaivers:\n  - {{rule: f, reason: r, expires: {expires}}}\n",
        encoding="utf-8",
    )
    if ok:
        assert load_policy(path).waivers[0].expires.isoformat() == "2026-11-28"
    else:
        with pytest.raises(PolicyError, match="expires must be a date, YYYY-MM-DD, without a"):
            load_policy(path)


class _PathLike(os.PathLike[str]):
    def __init__(self, path: Path) -> None:
        self.path = path

    def __fspath__(self) -> str:
        return str(self.path)


def test_load_policy_accepts_a_str_and_any_path_like(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(ALLOWLIST % "{port: 80}", encoding="utf-8")
    assert load_policy(str(path)).name == "p"
    assert load_policy(_PathLike(path)).source == str(path)


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("{process: sshd, uid: -1}", "greater than or equal to 0"),
        ('{process: {regex: ""}}', "empty regular expression"),
    ],
)
def test_values_that_match_nothing_or_everything_are_refused(
    tmp_path: Path, entry: str, message: str
) -> None:
    """uid -1 is no owner a listing can show, and an empty pattern allows every process."""
    error = load_error(tmp_path, ALLOWLIST % entry)
    assert "p.yaml:9:" in error and message in error
