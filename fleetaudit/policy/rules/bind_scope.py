"""``bind-scope``: matched listeners must bind only where the rule allows.

The classic finding: ``mysqld`` on ``0.0.0.0:3306`` when the database must only be reached
from the host itself (MySQL's ``bind-address``). A listener is a TCP LISTEN socket or an
unconnected UDP socket. ``allow:`` lists what is acceptable:

- a scope: ``loopback``, ``private``, ``link-local``, ``public``, or ``any``: a wildcard
  address (``0.0.0.0``, ``::``, ``*``); allowing it does not allow specific addresses;
- a CIDR: ``10.20.0.0/16``, ``fd00::/8`` (an IPv4-mapped IPv6 address counts as its IPv4
  address, ``localhost`` from a listing taken without ``-n`` as 127.0.0.1 or ::1; a
  wildcard is in no CIDR but ``0.0.0.0/0`` or ``::/0``); a CIDR with host bits
  set (``10.0.0.1/8``) is an error, not silently widened to its network: it is a typo for
  either the network or one address, and only the author knows which;
- ``{interface: eth1}``: bound to that interface (``addr%eth1``); a name Linux could not
  give an interface (over 15 bytes, whitespace, ``/``, ``:``, ``.``) is an error, as it could
  never match.

Wildcards (``0.0.0.0``, ``::``, ``*``) and public addresses are findings unless allowed.
``127.0.0.0/8``, ``::1``, ``::ffff:127.0.0.1`` and ``%lo`` are loopback (the model's
``bind_scope`` classifies them).

``match`` picks the listeners that may become findings, so a fact the listing could not
establish (whether ``:::3306`` from netstat also takes IPv4) counts as met there
(:attr:`Lean.REPORT`).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator, Sequence
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

from fleetaudit.model.address import loopback_address
from fleetaudit.model.enums import BindScope, Tool
from fleetaudit.model.finding import Finding
from fleetaudit.model.host import HostSnapshot
from fleetaudit.model.socket import Socket
from fleetaudit.policy.matchers import Lean, SocketMatch, invalid, owner_judgement
from fleetaudit.policy.rules.interface import Rule, describe_listener, doubt_notes

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


_IFNAME_MAX = 15
"""Linux interface names are at most IFNAMSIZ - 1 = 15 bytes."""


def interface_name(name: str) -> str:
    """``name`` when Linux could give an interface that name, else a validation error."""
    if not name:
        raise invalid("an interface name cannot be empty")
    if len(name.encode()) > _IFNAME_MAX:
        raise invalid(f"interface name {name!r} is longer than {_IFNAME_MAX} bytes")
    if "/" in name or ":" in name or any(char.isspace() for char in name):
        raise invalid(f"interface name {name!r} contains whitespace, '/' or ':'")
    if name in (".", ".."):
        raise invalid(f"{name!r} cannot be an interface name")
    return name


class InterfaceAllow(BaseModel):
    """``{interface: NAME}``: a listener bound to that one interface is acceptable."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    interface: Annotated[str, AfterValidator(interface_name)]


def parse_allow(value: Any) -> Any:
    """A string is a scope name or a CIDR, a mapping an interface. Each form is told apart
    here so that an error speaks of the form written (a union would report its first
    member, the scope names, and would take a bare number for an IPv4 address)."""
    if isinstance(value, BindScope | ipaddress.IPv4Network | ipaddress.IPv6Network):
        return value  # already built (a rule constructed in code, not read from a file)
    if isinstance(value, InterfaceAllow):
        return value
    if isinstance(value, dict):
        return _interface_allow(value)
    if not isinstance(value, str):
        raise invalid(f"{value!r} is not a scope, a CIDR or {{interface: NAME}}")
    try:
        return BindScope(value)
    except ValueError:
        pass
    try:
        network = ipaddress.ip_network(value, strict=False)
    except ValueError:
        if (problem := _prefix_problem(value)) is not None:
            raise invalid(f"{value!r} is not a valid CIDR: {problem}") from None
        scopes = ", ".join(s.value for s in BindScope)
        raise invalid(f"{value!r} is neither a scope ({scopes}) nor a CIDR") from None
    if network.network_address != ipaddress.ip_interface(value).ip:
        raise invalid(f"{value!r}: host bits set; did you mean {network}?")
    return network


def _interface_allow(value: dict[Any, Any]) -> InterfaceAllow:
    if set(value) != {"interface"} or not isinstance(value["interface"], str):
        raise invalid(f"{value!r}: a mapping in allow is {{interface: NAME}}")
    return InterfaceAllow(interface=interface_name(value["interface"]))


AllowEntry = Annotated[BindScope | IPNetwork | InterfaceAllow, BeforeValidator(parse_allow)]


class BindScopeRule(Rule):
    """Listeners picked by ``match`` must bind within ``allow``."""

    kind: Literal["bind-scope"]
    match: SocketMatch
    allow: tuple[AllowEntry, ...] = Field(min_length=1)

    def concerns(self, socket: Socket) -> str | None:
        """Listeners the match picks have their bind address checked; one it could not
        judge (owner unknown, no port to stand in for its process) is said so."""
        if not socket.is_listener:
            return None
        verdict = self.match.decide(socket, Lean.REPORT)
        note = owner_judgement(self.match, socket, Lean.REPORT)
        if verdict is None:
            return f"{self.id} could not judge its bind address: {note}"
        if verdict:
            return f"bind address allowed by {self.id}" + (f" ({note})" if note else "")
        return None

    def check(self, snapshot: HostSnapshot, applicable: Sequence[Rule]) -> Iterator[Finding]:
        """One finding per matched listener bound outside ``allow``."""
        for socket in snapshot.listeners:
            if self.match.matches(socket, Lean.REPORT) and not self.allows(socket):
                what = f"{describe_listener(socket)}, outside {self._allowed_text()}"
                what += doubt_notes(snapshot, socket, (self.match,))
                what += self._unshown_interface(snapshot, socket)
                yield self.finding(snapshot, socket, what)

    def allows(self, socket: Socket) -> bool:
        """True when the socket's address is within one of the allowed entries."""
        return any(_within(entry, socket) for entry in self.allow)

    def _unshown_interface(self, snapshot: HostSnapshot, socket: Socket) -> str:
        """The note of a finding that an ``{interface: NAME}`` entry might have allowed,
        had the listing shown interfaces: netstat and /proc/net never do (QA: a link-local
        listener on the allowed interface was "outside" it)."""
        tool = snapshot.tool
        if socket.local_interface is not None or tool is None or tool is Tool.SS:
            return ""
        if not any(isinstance(entry, InterfaceAllow) for entry in self.allow):
            return ""
        return (
            f" ({tool.value} does not show the interface a socket is bound to: the rule "
            "assumed none)"
        )

    def _allowed_text(self) -> str:
        return "what the rule allows (" + ", ".join(map(_entry_text, self.allow)) + ")"


def _within(entry: BindScope | IPNetwork | InterfaceAllow, socket: Socket) -> bool:
    if isinstance(entry, BindScope):
        return socket.bind_scope is entry
    if isinstance(entry, InterfaceAllow):
        return socket.local_interface == entry.interface
    address = loopback_address(socket.local_address, socket.family) or socket.local_address
    return _address_in(address, entry)


def _address_in(address: str, network: IPNetwork) -> bool:
    if address == "*":
        # NOTE: ss's `*` is every address of both families; only a /0 contains it.
        return network.prefixlen == 0
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_unspecified:
        # 0.0.0.0 is every address, not the one address 0.0.0.0/1 contains (QA: it passed)
        return ip.version == network.version and network.prefixlen == 0
    return ip.version == network.version and ip in network


def _entry_text(entry: BindScope | IPNetwork | InterfaceAllow) -> str:
    if isinstance(entry, InterfaceAllow):
        return f"interface {entry.interface}"
    return str(entry.value if isinstance(entry, BindScope) else entry)


def _prefix_problem(value: str) -> str | None:
    """What is wrong after the ``/`` of an address with a bad prefix (``10.0.0.0/33``),
    which ``ip_network`` only calls no network at all; None when the address is no IP."""
    address, slash, _ = value.partition("/")
    if not slash:
        return None
    try:
        version = ipaddress.ip_address(address).version
    except ValueError:
        return None
    network = ipaddress.IPv4Network if version == 4 else ipaddress.IPv6Network
    try:
        network(value, strict=False)
    except ValueError as exc:
        return str(exc)
    return None
