"""Group membership shared by every inventory format."""

from __future__ import annotations

from collections.abc import Iterable, Mapping


def with_ancestors(direct: Iterable[str], parents: Mapping[str, Iterable[str]]) -> set[str]:
    """``direct`` groups plus every group that has one of them as a (grand)child."""
    found: set[str] = set()
    pending = list(direct)
    while pending:
        group = pending.pop()
        if group not in found:
            found.add(group)
            pending.extend(parents.get(group, ()))
    return found
