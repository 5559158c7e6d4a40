"""Sharding a fleet over several runs: which hosts each of ``--shard K/N`` audits.

``--shard K/N`` keeps the hosts whose name hashes to K (1-based) modulo N: deterministic
across machines and Python versions (SHA-256, not ``hash()``), so N parallel runs (pods of a
Kubernetes Indexed Job, AWX slices) cover every host exactly once. A shard's report records
its K/N, a digest of the whole selection and whether that selection was the whole
inventory (:class:`ShardInfo`), for :mod:`fleetaudit.merge`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

from fleetaudit.errors import InputError
from fleetaudit.inventory.model import Host
from fleetaudit.model.run import ShardInfo
from fleetaudit.report.summary import counted

MAX_SHARDS = 10_000
"""The most shards a split may have: more than any Indexed Job or AWX slicing would use,
and a bound on what ``merge`` has to check."""


def parse_shard(text: str) -> tuple[int, int]:
    """``"2/5"`` -> ``(2, 5)``; InputError unless 1 <= K <= N <= :data:`MAX_SHARDS`."""
    index, slash, count = text.partition("/")
    if not slash or not _decimal(index) or not _decimal(count):
        raise InputError(f"--shard {text!r}: write K/N, e.g. 2/5")
    k, n = int(index), int(count)
    if not 1 <= n <= MAX_SHARDS:
        raise InputError(f"--shard {text!r}: N must be between 1 and {MAX_SHARDS}")
    if not 1 <= k <= n:
        raise InputError(f"--shard {text!r}: K must be between 1 and N")
    return k, n


def _decimal(text: str) -> bool:
    """ASCII digits only, and not too many to read (``str.isdigit`` accepts ``²``, which
    ``int`` refuses)."""
    return text.isascii() and text.isdigit() and len(text) <= 20


def shard_of(name: str, count: int) -> int:
    """The 1-based shard of host ``name`` among ``count``."""
    digest = hashlib.sha256(name.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % count + 1


def select_shard(hosts: Sequence[Host], index: int, count: int) -> tuple[Host, ...]:
    """The hosts of shard ``index`` of ``count``."""
    return tuple(host for host in hosts if shard_of(host.name, count) == index)


def empty_shard_message(index: int, count: int, selected: int) -> str:
    """Why shard ``index`` of ``count`` audits nothing: with fewer hosts than shards, some
    shards are empty by construction. Such a run is not an error (a pod of an Indexed Job
    must not fail for it); ``merge`` of all N reports judges the fleet."""
    return f"shard {index}/{count} holds no host ({counted(selected, 'host')} in {count} shards)"


def shard_info(
    hosts: Sequence[Host], index: int, count: int, *, whole_inventory: bool = False
) -> ShardInfo:
    """What a ``--shard index/count`` run of ``hosts`` (the selection before sharding)
    records in its report; ``whole_inventory`` when that selection is every host of the
    inventory."""
    return ShardInfo(
        index=index,
        count=count,
        hosts_digest=hosts_digest(h.name for h in hosts),
        whole_inventory=whole_inventory,
        selected=len(hosts),
    )


def hosts_digest(names: Iterable[str]) -> str:
    """SHA-256 of a set of host names (order does not matter)."""
    return hashlib.sha256("\n".join(sorted(set(names))).encode("utf-8")).hexdigest()
