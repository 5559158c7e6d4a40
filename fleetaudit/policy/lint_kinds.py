"""Lint: matches that ask for sockets their rule kind never looks at, and process matches
that an audit without root leaves undecided.

Each kind judges one kind of socket (``forbidden``, ``bind-scope`` and ``allowlist``:
listeners; ``backlog``: LISTEN sockets; ``queue``: every other state; ``state-count``: its
``state:``). A match whose ``proto``/``state`` can only pick other sockets holds for nothing
the rule sees. The sockets a listing can hold at all are TCP in any state (``ss`` prints a
TCP socket in CLOSE as ``UNCONN``, which the model counts as a listener) and UDP either
unconnected (``UNCONN``) or connected (``ESTABLISHED``): a UDP socket never listens.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from fleetaudit.model.enums import BindScope, Proto, SocketState
from fleetaudit.model.raw import LISTENING
from fleetaudit.policy.matchers import SocketMatch
from fleetaudit.policy.rules import (
    AllowlistRule,
    BacklogRule,
    BindScopeRule,
    CoverageRule,
    ForbiddenRule,
    QueueRule,
    Rule,
    StateCountRule,
)
from fleetaudit.yamlsource import Loc

_UDP_STATES = frozenset({SocketState.UNCONN, SocketState.ESTABLISHED})
_ALL_STATES = frozenset(SocketState)
_ALL_PROTOS = frozenset(Proto)
_LISTENERS = "listeners (TCP LISTEN, unconnected UDP)"
_EVERYTHING = SocketMatch()
"""A match without a condition: it holds for every socket."""


@dataclass(frozen=True, slots=True)
class View:
    """The sockets a rule kind looks at, and how to say so."""

    states: frozenset[SocketState]
    what: str
    protos: frozenset[Proto] = _ALL_PROTOS


def view_of(rule: Rule) -> View | None:
    """What ``rule`` judges; None for a kind without a socket match (coverage)."""
    if isinstance(rule, ForbiddenRule | BindScopeRule | AllowlistRule):
        return View(LISTENING, _LISTENERS)
    if isinstance(rule, BacklogRule):
        return View(frozenset({SocketState.LISTEN}), "LISTEN sockets")
    if isinstance(rule, QueueRule):
        others = _ALL_STATES - {SocketState.LISTEN}
        if rule.recv_bytes is None:  # Send-Q is judged on TCP only
            return View(
                others, "TCP sockets not in LISTEN (only send_bytes is set)", frozenset({Proto.TCP})
            )
        return View(others, "sockets not in LISTEN")
    if isinstance(rule, StateCountRule):
        return View(frozenset(rule.state), "sockets in " + "/".join(rule.state))
    return None


def kind_problems(rule: Rule, loc: Loc) -> Iterator[tuple[Loc, str]]:
    """Matches of ``rule`` that hold for nothing it looks at, a bind-scope rule that allows
    every scope it can pick, and process matches that no port can stand in for."""
    view = view_of(rule)
    if view is None:
        return
    if isinstance(rule, AllowlistRule):
        for index, entry in enumerate(rule.allow):
            problem = unseen(entry, view, rule.kind)
            if entry == _EVERYTHING:
                problem = "it has no condition, so it allows every listener: the rule never fires"
            if problem:
                yield (*loc, "allow", index), f"allow entry {index + 1}: {problem}"
        return
    match: SocketMatch = getattr(rule, "match", SocketMatch())
    problem = unseen(match, view, rule.kind)
    if problem:
        yield (*loc, "match"), problem
    if isinstance(rule, ForbiddenRule) and match == _EVERYTHING:
        yield (
            (*loc, "match"),
            (
                "match has no condition, so the rule reports every listener of the hosts it "
                "selects (name a port, process or scope)"
            ),
        )
    if isinstance(rule, BindScopeRule):
        yield from _allows_everything(rule, loc)
    if isinstance(rule, ForbiddenRule | BindScopeRule | BacklogRule):
        at = process_without_port(match, (*loc, "match"))
        if at is not None:
            yield at, _BLIND


_BLIND = (
    "match names a process but no port: on a listing whose socket owners are unknown (an "
    "audit without root) it cannot judge a socket and stays silent about it; add the "
    "program's port (`port:` next to `process:`) so the port stands in for the program"
)


def unseen(match: SocketMatch, view: View, kind: str) -> str | None:
    """Why ``match`` holds for no socket of ``view``, or None when it may hold for one."""
    if match.proto == () or match.state == ():
        return None  # an empty list is reported as such
    wanted = {
        (proto, state)
        for proto in match.proto or _ALL_PROTOS
        for state in match.state or _ALL_STATES
        if proto is Proto.TCP or state in _UDP_STATES
    }
    if any(proto in view.protos and state in view.states for proto, state in wanted):
        return None
    asked = " with ".join(
        f"{key} " + "/".join(values)
        for key, values in (("proto", match.proto), ("state", match.state))
        if values is not None
    )
    return (
        f"match can never hold: a rule of kind {kind} judges {view.what}, and no such "
        f"socket has {asked}"
    )


def _allows_everything(rule: BindScopeRule, loc: Loc) -> Iterator[tuple[Loc, str]]:
    # NOTE: `any` is the scope of wildcard addresses only, so `allow: [any]` alone still
    # fires on a listener bound to one address; only every scope the match can pick does not.
    allowed = {entry for entry in rule.allow if isinstance(entry, BindScope)}
    picked = set(rule.match.scope or BindScope)
    if picked and picked <= allowed:
        scopes = ", ".join(sorted(picked))
        yield (
            (*loc, "allow"),
            f"allow accepts every scope its match can pick ({scopes}), so the rule can never fire",
        )


def process_without_port(match: SocketMatch, loc: Loc, port_above: bool = False) -> Loc | None:
    """The path of a ``process`` condition that no ``port`` of its matcher or of a matcher
    it is nested in can stand in for (see :mod:`fleetaudit.policy.matchers`), or None."""
    has_port = port_above or match.port is not None
    if match.process is not None and not has_port:
        return (*loc, "process")
    if match.not_ is None:
        return None
    return process_without_port(match.not_, (*loc, "not"), has_port)


def waiver_problem(rule: Rule, match: SocketMatch) -> str | None:
    """Why a waiver's ``match`` can cover no finding of ``rule``, or None."""
    if isinstance(rule, CoverageRule | StateCountRule):
        return (
            f"findings of a {rule.kind} rule name no socket, so a waiver `match:` never "
            "covers them; remove the match"
        )
    view = view_of(rule)
    return None if view is None else unseen(match, view, rule.kind)
