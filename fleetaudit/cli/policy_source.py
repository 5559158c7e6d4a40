"""The policy a command judges with: the file given (``--policy`` / ``FLEETAUDIT_POLICY``)
or the built-in default."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fleetaudit.policy import Policy


def load_policy_or_default(path: Path | None) -> Policy:
    """The policy in ``path``, or the built-in default. (An empty ``FLEETAUDIT_POLICY``
    is refused by the option itself: see ``options._not_empty_in_environment``.)"""
    from fleetaudit.policy import load_default_policy, load_policy

    return load_default_policy() if path is None else load_policy(path)


def load_judging_policy(path: Path | None) -> Policy:
    """:func:`load_policy_or_default`, for a command that judges hosts with it: one stderr
    line when the file has lint warnings."""
    from fleetaudit.cli.policy import say_lint_warnings

    policy = load_policy_or_default(path)
    say_lint_warnings(path, policy)
    return policy
