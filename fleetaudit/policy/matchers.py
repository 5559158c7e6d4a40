"""Socket matchers: which sockets a rule talks about.

A matcher is a ``match:`` block (or an ``allow:`` entry of an allowlist) in the policy file::

    match:
      process: mysqld                 # a program name, a list of them, or {regex: "..."}
      port: [3306, 33060, "6000-6063"]
      proto: tcp                      # one value or a list, for every enum key
      family: ipv4                    # a dual-stack IPv6 wildcard counts as IPv4 too
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
if the matcher also has a ``port`` it matches by port alone (a listener on 3306 is judged
as the database it almost certainly is); without a port the answer is "undecided", which no
rule treats as a match. The coverage rule reports such hosts.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Self

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictInt, model_validator
from pydantic_core import PydanticCustomError

from fleetaudit.model.enums import BindScope, Family, Proto, SocketState
from fleetaudit.model.names import stands_for
from fleetaudit.model.socket import Process, Socket

_PORT_MAX = 65535


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
        return any(stands_for(p.name, p.pid, name) for p in processes for name in self.names)


class SocketMatch(BaseModel):
    """A set of conditions on one socket; every condition given must hold."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    process: Annotated[ProcessMatch, BeforeValidator(process_spec)] | None = None
    port: PortRanges | None = None
    proto: Annotated[tuple[Proto, ...], BeforeValidator(as_tuple)] | None = None
    family: Annotated[tuple[Family, ...], BeforeValidator(as_tuple)] | None = None
    state: Annotated[tuple[SocketState, ...], BeforeValidator(as_tuple)] | None = None
    scope: Annotated[tuple[BindScope, ...], BeforeValidator(as_tuple)] | None = None
    uid: Annotated[tuple[StrictInt, ...], BeforeValidator(as_tuple)] | None = None
    """Socket owner uid (from ``ss -e`` / ``netstat -e``); a socket whose uid the listing
    does not show never matches."""
    not_: SocketMatch | None = Field(default=None, alias="not")

    def decide(self, socket: Socket) -> bool | None:
        """True or False, or None when the owner is unknown and no port can stand in."""
        if not self._socket_fields_match(socket):
            return False
        verdict: bool | None = True
        if self.process is not None and not self._port_stands_in(socket):
            verdict = _process_matches(self.process, socket)
        if verdict is False or self.not_ is None:
            return verdict
        inner = self.not_.decide(socket)
        if inner is None:
            return None
        return False if inner else verdict

    def matches(self, socket: Socket) -> bool:
        """True only when the match is certain; undecided counts as no match."""
        return self.decide(socket) is True

    def _port_stands_in(self, socket: Socket) -> bool:
        # NOTE: the port condition was already checked in _socket_fields_match, so when it
        # exists it has matched and can stand in for a process nobody could see.
        return self.port is not None and not owner_visible(socket)

    def _socket_fields_match(self, socket: Socket) -> bool:
        return (
            (self.port is None or port_in(socket.local_port, self.port))
            and (self.proto is None or socket.proto in self.proto)
            and (self.family is None or _family_matches(self.family, socket))
            and (self.state is None or socket.state in self.state)
            and (self.scope is None or socket.bind_scope in self.scope)
            and (self.uid is None or socket.uid in self.uid)
        )


def _family_matches(families: tuple[Family, ...], socket: Socket) -> bool:
    # A dual-stack IPv6 wildcard (not IPV6_V6ONLY) accepts IPv4 too: it is an IPv4 listener
    # for every rule that asks about IPv4.
    if socket.family in families:
        return True
    return Family.IPV4 in families and socket.accepts_ipv4 is True


def owner_visible(socket: Socket) -> bool:
    """False when the tool could not see who owns the socket (not "no process")."""
    return socket.owner_known or bool(socket.processes)


def port_in(port: int | None, ranges: tuple[tuple[int, int], ...]) -> bool:
    """True when ``port`` lies in one of ``ranges``; a wildcard port (None) never does."""
    return port is not None and any(low <= port <= high for low, high in ranges)


def _process_matches(matcher: ProcessMatch, socket: Socket) -> bool | None:
    if not owner_visible(socket):
        return None
    return matcher.matches_any(socket.processes)
