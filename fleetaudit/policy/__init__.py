"""The policy stage: a YAML policy, validated with file/line errors, and a pure engine that
turns a :class:`~fleetaudit.model.HostSnapshot` into :class:`~fleetaudit.model.Finding` s."""

from fleetaudit.policy.engine import evaluate
from fleetaudit.policy.loader import (
    DEFAULT_POLICY_SOURCE,
    load_default_policy,
    load_policy,
    parse_policy,
)
from fleetaudit.policy.schema import FORMAT_VERSION, Policy

__all__ = [
    "DEFAULT_POLICY_SOURCE",
    "FORMAT_VERSION",
    "Policy",
    "evaluate",
    "load_default_policy",
    "load_policy",
    "parse_policy",
]
