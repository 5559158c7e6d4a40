"""Socket matchers: which sockets a rule talks about.

A matcher is a ``match:`` block (or an ``allow:`` entry of an allowlist) in the policy file::

    match:
      process: mysqld                 # a program name, a list of them, or {regex: "..."}
      port: [3306, 33060, "6000-6063"]
      proto: tcp                      # one value or a list, for every enum key
      family: ipv4                    # IPv4 reach, not the socket's family: see below
      state: LISTEN
      scope: [any, public]
      uid: [0, 33]                    # socket owner uid (needs ss -e / netstat -e)
      not: {scope: loopback}          # a nested matcher that must NOT match

Every key given must match (AND); a list means any of its values (OR); a missing key matches
everything. A program name matches what the tool printed for that program: the comm for
``ss`` (cut to 15 characters, e.g. ``systemd-resolve``), the start of the command line for
``netstat`` (``nginx: master``, ``sshd: /usr/sbi``); see :mod:`fleetaudit.model.names`.
A regex is searched (like grep) in the name exactly as printed: anchor it with ``^``/``$``
when needed.

Owner-unknown sockets (audited without privilege, so ``ss``/``netstat`` could not name the
process) are never treated as "no process". A process criterion cannot be decided on them:
if the matcher, or a matcher it is nested in through ``not:``, has a ``port`` (which then
matched), the port decides: the socket is judged as the program the port stands for, so a
``process`` condition holds and a negated one (``not: {process: nginx}``) does not exclude
it. Without such a port the answer is "undecided", which no rule treats as a match. The
coverage rule reports such hosts.

``family: ipv4`` asks whether the socket takes IPv4 traffic: an IPv4 socket, a dual-stack
IPv6 wildcard (not IPV6_V6ONLY) and an IPv4-mapped address (``::ffff:198.51.100.5``, which
carries only IPv4) do. ``family: ipv6`` likewise asks whether it takes IPv6 traffic, which
an IPv4-mapped address (``::ffff:0.0.0.0`` too) never does. Whether an IPv6 wildcard is
dual-stack is unknown when the tool did not say (netstat, /proc/net); the caller's
:class:`Lean` decides how that counts, so that doubt errs towards a finding: as IPv4 where
a match leads to a finding, not where it excuses a socket. Each ``not:`` turns the lean
around, as it turns the match around. A ``uid`` the listing does not show (no ``-e``;
busybox netstat) counts the same way.
"""

from __future__ import annotations

import ipaddress
import re
from enum import Enum
from functools import lru_cache
from typing import Annotated, Any, Self

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictInt, model_validator
from pydantic_core import PydanticCustomError

from fleetaudit.model.enums import BindScope, Family, Proto, SocketState
from fleetaudit.model.names import stands_for
from fleetaudit.model.socket import Process, Socket

_PORT_MAX = 65535
Uid = Annotated[StrictInt, Field(ge=0)]
_IPV6_WILDCARDS = frozenset({"::", "*"})


class Lean(Enum):
    """How a fact the listing could not establish (does ``:::80`` also take IPv4?) counts,
    chosen by what a match leads to, so that doubt errs towards reporting."""

    REPORT = "report"
    """A match leads to a finding (forbidden, bind-scope): an unknown fact counts as met."""
    EXCUSE = "excuse"
    """A match excuses a socket (allowlist entries, waivers): an unknown fact counts as
    unmet. The default: it claims nothing the listing did not show."""


def invalid(reason: str) -> PydanticCustomError:
    """A validation error whose message is ``reason`` verbatim (no "Value error," prefix)."""
    # NOTE: the template is formatted with the context, so the reason (which may contain
    # braces, e.g. a quoted mapping) goes in the context rather than in the template.
    return PydanticCustomError("invalid", "{reason}", {"reason": reason})


def as_tuple(value: Any) -> Any:
    """Accept one value where a list is allowed, so ``proto: tcp`` means ``[tcp]``."""
    if isinstance(value, list | tuple):
        return tuple(value)
    return (value,)


def compile_regex(value: Any) -> Any:
    """Compile a regex at load time so a bad one is an error with its line, not a crash
    in the middle of a run."""
    if not isinstance(value, str):
        return value
    if not value:
        raise invalid("empty regular expression: it matches every process; give a pattern")
    try:
        return re.compile(value)
    except re.error as exc:
        raise invalid(f"invalid regular expression {value!r}: {exc}") from exc


def parse_ports(value: Any) -> Any:
    """Turn ``22``, ``"6000-6063"`` or a list of those into ``((low, high), ...)``."""
    items = value if isinstance(value, list | tuple) else [value]
    return tuple(_port_range(item) for item in items)


def _port_range(item: Any) -> tuple[int, int]:
    if isinstance(item, bool):
        raise invalid(f"{item!r} is not a port")
    if isinstance(item, int):
        low = high = item
    elif isinstance(item, str):
        low, high = _split_range(item)
    else:
        raise invalid(f"{item!r} is not a port or a range such as 6000-6063")
    for port in (low, high):
        if not 0 < port <= _PORT_MAX:
            raise invalid(f"port {port} is outside 1-{_PORT_MAX}")
    if low > high:
        raise invalid(f"port range {item!r} starts after it ends")
    return low, high


def _split_range(text: str) -> tuple[int, int]:
    low_text, dash, high_text = text.strip().partition("-")
    try:
        low = int(low_text)
        high = int(high_text) if dash else low
    except ValueError:
        raise invalid(f"{text!r} is not a port or a range such as 6000-6063") from None
    return low, high


PortRanges = Annotated[tuple[tuple[int, int], ...], BeforeValidator(parse_ports)]
Regex = Annotated[re.Pattern[str], BeforeValidator(compile_regex)]


def process_spec(value: Any) -> Any:
    """``mysqld`` and ``[mysqld, mariadbd]`` are names; a mapping is ``{regex: ...}``."""
    if isinstance(value, str):
        value = [value]
    if isinstance(value, list | tuple):
        if not value or not all(isinstance(name, str) and name for name in value):
            raise invalid("process names must be non-empty strings")
        return {"names": tuple(value)}
    if isinstance(value, dict):
        return value
    raise invalid(f"{value!r} is not a process name, a list of names or {{regex: ...}}")


class ProcessMatch(BaseModel):
    """Process names: exact ``names`` (any of them) or a ``regex`` searched in each name."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    names: tuple[str, ...] = ()
    regex: Regex | None = None

    @model_validator(mode="after")
    def _not_empty(self) -> Self:
        if not self.names and self.regex is None:
            raise invalid("give process names or {regex: ...}")
        return self

    def matches_any(self, processes: tuple[Process, ...]) -> bool:
        """True when one of the socket's processes matches."""
        if self.regex is not None and any(self.regex.search(p.name) for p in processes):
            return True
        return any(
            stands_for(p.name, p.pid, name, p.is_comm) for p in processes for name in self.names
        )


class SocketMatch(BaseModel):
    """A set of conditions on one socket; every condition given must hold."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    process: Annotated[ProcessMatch, BeforeValidator(process_spec)] | None = None
    port: PortRanges | None = None
    proto: Annotated[tuple[Proto, ...], BeforeValidator(as_tuple)] | None = None
    family: Annotated[tuple[Family, ...], BeforeValidator(as_tuple)] | None = None
    state: Annotated[tuple[SocketState, ...], BeforeValidator(as_tuple)] | None = None
    scope: Annotated[tuple[BindScope, ...], BeforeValidator(as_tuple)] | None = None
    uid: Annotated[tuple[Uid, ...], BeforeValidator(as_tuple)] | None = None
    """Socket owner uid (from ``ss -e`` / ``netstat -e``); a socket whose uid the listing
    does not show (no ``-e``, busybox) counts as the :class:`Lean` says, as an unknown IPv4
    reach does."""
    not_: SocketMatch | None = Field(default=None, alias="not")

    def decide(self, socket: Socket, lean: Lean = Lean.EXCUSE) -> bool | None:
        """True or False, or None when the owner is unknown and no port can stand in.

        ``lean`` says how a fact the listing did not establish counts (see :class:`Lean`).
        """
        return self._decide(socket, lean is Lean.REPORT, None)

    def matches(self, socket: Socket, lean: Lean = Lean.EXCUSE) -> bool:
        """True only when the match is certain; undecided counts as no match."""
        return self.decide(socket, lean) is True

    @property
    def names_processes(self) -> bool:
        """True when this matcher or one nested in it has a ``process`` condition."""
        return self.process is not None or (self.not_ is not None and self.not_.names_processes)

    def _decide(self, socket: Socket, unknown_met: bool, stand_in: bool | None) -> bool | None:
        # Both flags are relative to this matcher and turn around at each `not`:
        # unknown_met is how an unknown IPv4 reach counts; stand_in is the value a process
        # condition takes on an owner-unknown socket (None: undecided).
        if not self._socket_fields_match(socket, unknown_met):
            return False
        if self.port is not None:
            # NOTE: the port has matched (checked above), so it can stand in for a process
            # nobody could see, in this matcher and in those nested in it.
            stand_in = True
        verdict: bool | None = True
        if self.process is not None:
            verdict = _process_matches(self.process, socket, stand_in)
        if verdict is False or self.not_ is None:
            return verdict
        inner_stand_in = None if stand_in is None else not stand_in
        inner = self.not_._decide(socket, not unknown_met, inner_stand_in)
        if inner is None:
            return None
        return False if inner else verdict

    def _socket_fields_match(self, socket: Socket, unknown_met: bool) -> bool:
        return (
            (self.port is None or port_in(socket.local_port, self.port))
            and (self.proto is None or socket.proto in self.proto)
            and (self.family is None or _family_matches(self.family, socket, unknown_met))
            and (self.state is None or socket.state in self.state)
            and (self.scope is None or socket.bind_scope in self.scope)
            and (self.uid is None or _uid_matches(self.uid, socket, unknown_met))
        )


def _uid_matches(uids: tuple[int, ...], socket: Socket, unknown_met: bool) -> bool:
    return unknown_met if socket.uid is None else socket.uid in uids


def _family_matches(families: tuple[Family, ...], socket: Socket, unknown_met: bool) -> bool:
    if socket.family is Family.IPV6 and Family.IPV6 in families:
        # an IPv4-mapped address is an AF_INET6 socket that never takes IPv6 traffic
        if not ipv4_mapped(socket.local_address):
            return True
    elif socket.family in families:
        return True
    if Family.IPV4 not in families:
        return False
    reach = ipv4_reach(socket)
    return unknown_met if reach is None else reach


def ipv4_reach(socket: Socket) -> bool | None:
    """Whether the socket takes IPv4 traffic; None when the tool did not say (an IPv6
    wildcard read by netstat or /proc/net, which do not show IPV6_V6ONLY)."""
    if socket.family is Family.IPV4:
        return True
    if socket.accepts_ipv4 is not None:
        return socket.accepts_ipv4
    if socket.local_address in _IPV6_WILDCARDS:
        return None
    return ipv4_mapped(socket.local_address)


@lru_cache(maxsize=4096)
def ipv4_mapped(address: str) -> bool:
    # `::ffff:198.51.100.5` is an AF_INET6 socket that only ever carries IPv4 traffic.
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False  # a host name a listing printed without -n
    return isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None


def owner_judgement(match: SocketMatch, socket: Socket, lean: Lean) -> str | None:
    """How ``match`` judged an owner-unknown ``socket`` whose process it names, in words for
    ``policy explain``: by port alone, or not at all; None when no process was in doubt."""
    if owner_visible(socket) or not match.names_processes:
        return None
    verdict = match.decide(socket, lean)
    if verdict is None:
        return "owner unknown and no port to judge it by, so not matched"
    return "owner unknown: judged by port alone" if verdict else None


def owner_visible(socket: Socket) -> bool:
    """False when the tool could not see who owns the socket (not "no process")."""
    return socket.owner_known or bool(socket.processes)


def port_in(port: int | None, ranges: tuple[tuple[int, int], ...]) -> bool:
    """True when ``port`` lies in one of ``ranges``; a wildcard port (None) never does."""
    return port is not None and any(low <= port <= high for low, high in ranges)


def _process_matches(matcher: ProcessMatch, socket: Socket, stand_in: bool | None) -> bool | None:
    if not owner_visible(socket):
        return stand_in
    return matcher.matches_any(socket.processes)
