"""Hostile policies: any text gives a Policy or a PolicyError with a location, never a crash.

``FLEETAUDIT_FUZZ_EXAMPLES`` sets the number of examples (the slow run uses 10,000)."""

from __future__ import annotations

import json
import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fleetaudit.errors import PolicyError
from fleetaudit.policy import parse_policy

EXAMPLES = int(os.environ.get("FLEETAUDIT_FUZZ_EXAMPLES", "300"))
KEYS = st.sampled_from(
    ["version", "name", "rules", "waivers", "extends", "remove", "id", "kind", "severity",
     "description", "match", "allow", "select", "process", "port", "regex", "scope", "not",
     "groups", "hosts", "rule", "reason", "expires", "state", "max", "per", "fraction",
     "bind-scope", "allowlist", "forbidden", "backlog", "queue", "coverage", "state-count"]
)  # fmt: skip
SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-2, 70000), st.floats(allow_nan=True),
    st.text(max_size=10), KEYS, st.sampled_from(["1", "high", "[", "(?P<", "1-9", "2026-01-01"]),
)  # fmt: skip
TREES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(KEYS, inner, max_size=5)),
    max_leaves=25,
)


@st.composite
def policies(draw: st.DrawFn) -> str:
    rules = draw(st.lists(st.dictionaries(KEYS, TREES, max_size=6), max_size=3))
    document = {"version": draw(st.sampled_from([1, 1, 2, "1"])), "rules": rules}
    if draw(st.booleans()):
        document["waivers"] = draw(st.lists(st.dictionaries(KEYS, TREES, max_size=5), max_size=2))
    return json.dumps(document)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(policies(), TREES.map(json.dumps), st.text(max_size=300)))
def test_any_policy_text_loads_or_fails_with_a_location(text: str) -> None:
    try:
        parse_policy(text, "fuzz.yaml")
    except PolicyError as exc:
        assert str(exc).startswith("fuzz.yaml")
