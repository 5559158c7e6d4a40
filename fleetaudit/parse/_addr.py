"""Address and port text shared by the ss and netstat dialects.

Both tools print ``host:port``; the host may be bracketed IPv6 (``[::1]``), carry an
interface scope (``127.0.0.53%lo``, ``[fe80::1]%eth0``), be a wildcard (``*``, ``0.0.0.0``,
``::``), an IPv4-mapped IPv6 address, or, in a capture taken without ``-n``, a host or service
name. Canonicalisation is cached: a fleet has few distinct addresses and many sockets.
"""

from __future__ import annotations

import ipaddress
import re
from functools import lru_cache
from importlib import resources
from typing import NamedTuple

from fleetaudit.model.enums import Family

WILDCARD = {Family.IPV4: "0.0.0.0", Family.IPV6: "::"}  # noqa: S104 (text, not a bind)
"""The canonical wildcard address of each family, for the ``*`` tools print."""


class Endpoint(NamedTuple):
    """One side of a socket, split and canonicalised."""

    address: str
    port: int | None
    interface: str | None


QUEUE_MAX = 0xFFFFFFFF
"""The kernel keeps Recv-Q/Send-Q in 32-bit counters: a larger count was not printed by a
kernel (and would overflow the 64-bit integers JSON consumers use)."""
QUEUE_PROBLEM = "Recv-Q/Send-Q beyond the kernel's 32-bit counters"


class AddressError(ValueError):
    """The text is not ``host:port`` in any form the tools print."""


# Service names printed by captures taken without -n, besides each port's official name in
# data/services.txt: names other distributions' /etc/services give common ports. An unknown
# name is a line error (re-capture with -n), never a guess.
SERVICE_PORTS: dict[str, int] = {
    "ftp-data": 20, "ftp": 21, "ssh": 22, "telnet": 23, "smtp": 25, "time": 37,
    "domain": 53, "bootps": 67, "bootpc": 68, "tftp": 69, "http": 80, "kerberos": 88,
    "pop3": 110, "sunrpc": 111, "auth": 113, "ntp": 123, "epmap": 135, "netbios-ns": 137,
    "netbios-dgm": 138, "netbios-ssn": 139, "imap2": 143, "imap": 143, "snmp": 161,
    "snmp-trap": 162, "ldap": 389, "https": 443, "microsoft-ds": 445, "isakmp": 500,
    "exec": 512, "login": 513, "shell": 514, "syslog": 514, "printer": 515,
    "submission": 587, "ipp": 631, "ldaps": 636, "rsync": 873, "imaps": 993, "pop3s": 995,
    "socks": 1080, "openvpn": 1194, "ms-sql-s": 1433, "nfs": 2049, "mysql": 3306,
    "postgresql": 5432, "mdns": 5353, "x11": 6000, "redis": 6379, "http-alt": 8080,
    "ipv6-icmp": 58,
}  # fmt: skip


def split_endpoint(text: str) -> Endpoint:
    """Split ``host:port`` (any form above) into address, port and interface.

    Raises :class:`AddressError` for text that has no port separator or an unknown service
    name. A wildcard port (``*``) becomes ``None``. Results are memoised in a bounded dict
    (cheaper than ``lru_cache`` on a miss, and listeners repeat on every host).
    """
    known = _ENDPOINTS.get(text)
    if known is not None:
        return known
    host, sep, port_text = text.rpartition(":")
    if not sep or not host:
        raise AddressError(f"no ':port' in {text!r}")
    # Most addresses are plain (no brackets, no %scope): skip the call for them.
    address, interface = _host(host) if "[" in host or "%" in host else (host, None)
    endpoint = Endpoint(address, _port(port_text), interface)
    if len(_ENDPOINTS) < _MEMO_LIMIT:
        _ENDPOINTS[text] = endpoint
    return endpoint


_ENDPOINTS: dict[str, Endpoint] = {}
_MEMO_LIMIT = 65536


def _host(host: str) -> tuple[str, str | None]:
    # ss and netstat print addresses with inet_ntop, whose output is already the canonical
    # RFC 5952 text Python's ipaddress prints (and ::ffff:a.b.c.d for IPv4-mapped), so only
    # brackets and the %scope need removing: no per-address parse on the hot path.
    interface: str | None = None
    if host.startswith("["):
        close = host.find("]")
        if close < 0:
            raise AddressError(f"unbalanced '[' in {host!r}")
        rest = host[close + 1 :]
        host = host[1:close]
        if rest.startswith("%"):
            interface = rest[1:]
        elif rest:
            raise AddressError(f"text after ']' in {host!r}")
    percent = host.find("%")
    if percent >= 0:
        host, interface = host[:percent], host[percent + 1 :]
    if not host:
        raise AddressError("empty address")
    return host, interface or None


def canonical_ipv6(packed: bytes) -> str:
    """The canonical text of a packed IPv6 address, IPv4-mapped ones as ``::ffff:a.b.c.d``
    (the form ss, netstat and inet_ntop print)."""
    ip = ipaddress.IPv6Address(packed)
    mapped = ip.ipv4_mapped
    return f"::ffff:{mapped}" if mapped is not None else ip.compressed


_HOST_NAME = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_.])?")
"""A name a listing taken without ``-n`` prints for an address (``localhost``,
``ip6-localhost``, ``db01.example.net``)."""


@lru_cache(maxsize=4096)
def address_problem(address: str) -> str | None:
    """Why a local address as printed cannot be one, or None: a dotted quad out of range
    (``300.1.1.1``) or IPv6 text that does not parse (an address cut short). Host names, in a
    capture taken without ``-n``, pass. Only local addresses are checked: they are few per
    host (cached), and the policy judges them; peers are many and judged by nothing."""
    if ":" in address:
        try:
            ipaddress.IPv6Address(address)
        except ValueError:
            return f"{address!r} is not an IPv6 address"
    elif address.replace(".", "").isdigit():
        try:
            ipaddress.IPv4Address(address)
        except ValueError:
            return f"{address!r} is not an IPv4 address"
    elif address != "*" and not _HOST_NAME.fullmatch(address):
        # toybox without -n prints uninitialised bytes for 0.0.0.0 (QA: 'M-M$k9jU'), which
        # would pass for a public host name
        return f"{address!r} is neither an address nor a host name (capture with -n)"
    return None


@lru_cache(maxsize=1024)
def _port(text: str) -> int | None:
    if text == "*":
        return None
    if text.isdigit():
        port = int(text)
        if port > 65535:
            raise AddressError(f"port {port} out of range")
        return port
    known = SERVICE_PORTS.get(text) or registered_services().get(text)
    if known is None:
        raise AddressError(f"service name {text!r} is not numeric (capture with -n)")
    return known


@lru_cache(maxsize=1)
def registered_services() -> dict[str, int]:
    """Each port's official service name (``data/services.txt``, Debian's /etc/services),
    read when a capture first shows a name: ss and netstat print it without ``-n``."""
    text = resources.files("fleetaudit").joinpath("data", "services.txt").read_text("ascii")
    rows = (line.split() for line in text.splitlines() if line and not line.startswith("#"))
    return {name: int(port) for name, port in rows}
