"""The policy file format, version 1, and the validated :class:`Policy`.

A policy file::

    version: 1                  # required; a future incompatible format gets a new number
    name: baseline              # optional, defaults to the file name without extension
    description: ...            # optional
    rules:                      # evaluated in this order; findings come out in this order
      - id: db-loopback         # unique; letters, digits, . _ -
        kind: bind-scope        # bind-scope | allowlist | backlog | queue | forbidden |
                                # coverage | state-count
        severity: high          # info | low | medium | high | critical
        description: ...        # why the rule exists (quoted in every finding)
        fix: ...                # optional: what to do about a finding
        select: {groups: [db]}  # optional: which hosts (see selectors.py)
        ...                     # the keys of the kind (see rules/<kind>.py)
    extends: default            # optional: build on a base policy (see extends.py)
    remove: [rule-id]           # optional, with extends: base rules to drop
    waivers:                    # optional: accepted risks with a reason and an end date
      - {rule: db-loopback, select: {hosts: [db3]}, reason: ..., expires: 2026-12-31}

Unknown keys are errors everywhere, never ignored. New top-level sections (waivers,
includes) and new rule kinds can be added without changing what existing files mean.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from fleetaudit.policy.rules import (
    AllowlistRule,
    BacklogRule,
    BindScopeRule,
    CoverageRule,
    ForbiddenRule,
    QueueRule,
    StateCountRule,
)
from fleetaudit.policy.waivers import Waiver

FORMAT_VERSION: Literal[1] = 1
"""The only policy format version this fleetaudit reads."""

AnyRule = Annotated[
    BindScopeRule
    | AllowlistRule
    | BacklogRule
    | QueueRule
    | ForbiddenRule
    | CoverageRule
    | StateCountRule,
    Field(discriminator="kind"),
]


class PolicyDocument(BaseModel):
    """The top level of a policy file, before its rules are validated one by one (so that
    an error inside a rule points at its own line)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    version: Literal[1]
    name: str | None = Field(default=None, min_length=1)
    description: str = ""
    extends: str | None = Field(default=None, min_length=1)
    remove: list[str] = Field(default_factory=list)
    rules: list[dict[str, Any]] = Field(default_factory=list)
    waivers: list[dict[str, Any]] = Field(default_factory=list)


class Policy(BaseModel):
    """A validated policy: its rules in file order, where it came from, and its name."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    source: str
    """The file the policy was read from (shown in reports)."""
    description: str = ""
    version: Literal[1] = FORMAT_VERSION
    rules: tuple[AnyRule, ...]
    waivers: tuple[Waiver, ...] = ()
    rule_origins: tuple[tuple[str, int], ...] = ()
    """Where each rule is written: its file and its index in that file's ``rules`` (a rule
    inherited through ``extends:`` is in the base's file). Empty when not read from files."""
    waiver_origins: tuple[tuple[str, int], ...] = ()
    """The same for each waiver."""
    sources: tuple[str, ...] = ()
    """Every file the policy was read from: its own, then its ``extends:`` chain's."""

    @model_validator(mode="after")
    def _unique_ids(self) -> Self:
        seen: set[str] = set()
        for rule in self.rules:
            if rule.id in seen:
                raise ValueError(f"duplicate rule id {rule.id!r}")
            seen.add(rule.id)
        return self
