"""`run` and `check` say in one stderr line when their policy file has lint warnings
(fleetaudit.cli.policy.say_lint_warnings, called where they load the policy)."""

from __future__ import annotations

from pathlib import Path

import pytest

from fleetaudit.cli.policy import say_lint_warnings
from fleetaudit.policy import load_default_policy, load_policy

RULE = "  - {id: %s, kind: %s, severity: high, description: d%s}\n"


def write(tmp_path: Path, *rules: str) -> Path:
    path = tmp_path / "my policy.yaml"
    path.write_text("version: 1\nrules:\n" + "".join(rules), encoding="utf-8")
    return path


def test_a_policy_with_warnings_gets_one_line_naming_the_lint_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, RULE % ("a", "forbidden", ", match: {port: []}"))  # + no coverage
    say_lint_warnings(path, load_policy(path))
    out, err = capsys.readouterr()
    assert out == ""
    assert err == (
        f"fleetaudit: policy {path} has 2 lint warnings; run `fleetaudit policy lint '{path}'`\n"
    )


def test_a_lint_clean_policy_and_the_default_say_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(
        tmp_path,
        RULE % ("a", "forbidden", ", match: {port: 23}"),
        RULE % ("cov", "coverage", ""),
    )
    say_lint_warnings(path, load_policy(path))
    say_lint_warnings(None, load_default_policy())
    assert capsys.readouterr() == ("", "")
