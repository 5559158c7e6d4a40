"""Host range expansion: Ansible's syntax, zero padding, strides, letters, limits."""

from __future__ import annotations

import pytest

from fleetaudit.inventory.ranges import MAX_HOSTS, RangeError, expand_pattern


@pytest.mark.parametrize(
    ("pattern", "names"),
    [
        ("web1", ["web1"]),
        ("web[01:03].example.com", ["web01.example.com", "web02.example.com", "web03.example.com"]),
        ("db-[a:c]", ["db-a", "db-b", "db-c"]),
        ("n[1:10:3]", ["n1", "n4", "n7", "n10"]),
        ("n[:2]", ["n0", "n1", "n2"]),
        ("x[y:B]", ["xy", "xz", "xA", "xB"]),
        ("r[1:2]c[a:b]", ["r1ca", "r1cb", "r2ca", "r2cb"]),
        ("n[08:10]", ["n08", "n09", "n10"]),
    ],
)
def test_expansion(pattern: str, names: list[str]) -> None:
    assert expand_pattern(pattern) == names


@pytest.mark.parametrize(
    ("pattern", "fragment"),
    [
        ("web[1]", "[start:end]"),
        ("web[1:]", "[start:end]"),
        ("web[3:1]", "start <= end"),
        ("web[c:a]", "start <= end"),
        ("web[01:100]", "equal width"),
        ("web[1:5:0]", "stride"),
        ("web[1:5:x]", "stride"),
        ("web[a:5]", "two numbers or two single letters"),
        ("web[1:3", "unbalanced"),
        ("web1]", "unbalanced"),
        (f"web[1:{MAX_HOSTS + 1}]", "more than 10000 hosts"),
        ("a[1:200]b[1:200]", "more than 10000 hosts"),
    ],
)
def test_bad_ranges(pattern: str, fragment: str) -> None:
    with pytest.raises(RangeError, match=None) as caught:
        expand_pattern(pattern)
    assert fragment in str(caught.value)


def test_exactly_the_limit_is_allowed() -> None:
    assert len(expand_pattern(f"h[1:{MAX_HOSTS}]")) == MAX_HOSTS
