"""Facts a listing may not show (a socket's uid without ``-e``; whether an IPv6 wildcard
read by netstat or /proc/net also takes IPv4), and whether a verdict rested on one.

The matchers count such a fact as :class:`~fleetaudit.policy.matchers.Lean` says, so that
doubt errs towards reporting. A finding made, or a waiver left unapplied, because of that
lean must say so: it otherwise reads as a fact about the socket.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from fleetaudit.model.enums import Family
from fleetaudit.model.socket import Socket
from fleetaudit.policy.matchers import Lean, SocketMatch, ipv4_reach


def rests_on_doubt(socket: Socket, matches: Sequence[SocketMatch]) -> bool:
    """Whether one of ``matches`` matches ``socket`` under one lean and not the other."""
    return any(
        match.matches(socket, Lean.REPORT) != match.matches(socket, Lean.EXCUSE)
        for match in matches
    )


def unshown_facts(socket: Socket, matches: Sequence[SocketMatch]) -> str:
    """The facts ``matches`` ask about that the listing did not show for ``socket``, in
    words ("its uid or whether it also takes IPv4"); empty when there are none."""
    conditions = [part for match in matches for part in _nested(match)]
    unshown = []
    if socket.uid is None and any(part.uid is not None for part in conditions):
        unshown.append("its uid")
    if ipv4_reach(socket) is None and any(
        Family.IPV4 in (part.family or ()) for part in conditions
    ):
        unshown.append("whether it also takes IPv4")
    return " or ".join(unshown)


def _nested(match: SocketMatch) -> Iterator[SocketMatch]:
    """``match`` and the matchers nested in it through ``not:``."""
    part: SocketMatch | None = match
    while part is not None:
        yield part
        part = part.not_
