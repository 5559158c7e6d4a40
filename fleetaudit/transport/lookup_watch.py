"""Which host name a connection attempt is still looking up, so that its timeout can blame
the resolver rather than the network.

A connection attempt that times out before its name's lookup has answered never sent a
packet to the host: "the host is down or a firewall drops the packets" would send the
operator after the wrong fault. The event loop that does the lookups
(:class:`~fleetaudit.collect.lookups.AuditLoop`) reports them through :func:`looking_up`;
the SSH transport reads the answer from the :class:`LookupWatch` of :func:`watching`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TypeVar

_Result = TypeVar("_Result")


class LookupWatch:
    """The lookups of one connection attempt."""

    def __init__(self) -> None:
        self.unanswered: str | None = None
        """The name whose lookup has not answered (nor failed) yet, if any."""


# A mutable holder, shared by the tasks asyncio copies the context into (asyncssh runs
# each attempt under asyncio.wait_for, in a task of its own).
_WATCH: ContextVar[LookupWatch | None] = ContextVar("fleetaudit_lookup_watch", default=None)


@contextmanager
def watching() -> Iterator[LookupWatch]:
    """Watch the lookups of whatever connection attempt runs inside this block."""
    watch = LookupWatch()
    token = _WATCH.set(watch)
    try:
        yield watch
    finally:
        _WATCH.reset(token)


async def looking_up(name: str, lookup: Awaitable[_Result]) -> _Result:
    """``lookup``'s result, ``name`` reported as unanswered to the attempt watching while it
    runs. A lookup cancelled by its attempt's timeout stays unanswered."""
    watch = _WATCH.get()
    if watch is None:
        return await lookup
    watch.unanswered = name
    try:
        result = await lookup
    except Exception:
        watch.unanswered = None  # it answered: the name does not resolve
        raise
    watch.unanswered = None
    return result
