"""Bind-scope classification of a local address: the security question of a listener."""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from fleetaudit.model.enums import BindScope, Family

_WILDCARDS = frozenset({"*", "0.0.0.0", "::"})  # noqa: S104 (classified, never bound)
_LOOPBACK_INTERFACES = frozenset({"lo"})
# What `ss -r` / netstat without -n print for 127.0.0.1 and ::1: the names every Linux
# distribution's /etc/hosts gives them (Debian, Ubuntu, RHEL, Alpine, SUSE), and the family
# each name belongs to (None: both, "localhost" names 127.0.0.1 and ::1)
_LOOPBACK_NAMES: dict[str, Family | None] = {
    "localhost": None,
    "localhost.localdomain": None,
    "localhost4": Family.IPV4,
    "localhost4.localdomain4": Family.IPV4,
    "localhost6": Family.IPV6,
    "localhost6.localdomain6": Family.IPV6,
    "ip6-localhost": Family.IPV6,
    "ip6-loopback": Family.IPV6,
}
_LOOPBACK_ADDRESS = {Family.IPV4: "127.0.0.1", Family.IPV6: "::1"}
# IANA's special-purpose address registries, the blocks marked not globally reachable, and
# the blocks inside them marked reachable: written out, not taken from ipaddress.is_private,
# whose answer changed between Python patch releases (before the CVE-2024-4032 fix it
# called all of 2001::/23 private, AS112's 2001:4:112::/48 too, QA), which would move
# scopes, findings and fingerprints with an upgrade of Python. Blocks IANA marks neither
# way (Teredo 2001::/32, 6to4 2002::/16, 192.88.99.0/24) count as public, the cautious
# answer. Carrier-grade NAT (100.64.0.0/10) is among them, as IANA lists it.
_NOT_GLOBAL = tuple(
    ipaddress.ip_network(block)
    for block in (
        "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "172.16.0.0/12", "192.0.0.0/24",
        "192.0.2.0/24", "192.168.0.0/16", "198.18.0.0/15", "198.51.100.0/24",
        "203.0.113.0/24", "240.0.0.0/4",
        "64:ff9b:1::/48", "100::/64", "100:0:0:1::/64", "2001::/23", "2001:db8::/32",
        "3fff::/20", "5f00::/16", "fc00::/7",
    )
)  # fmt: skip
_GLOBAL_INSIDE = tuple(
    ipaddress.ip_network(block)
    for block in (
        "192.0.0.9/32", "192.0.0.10/32",
        "2001::/32", "2001:1::1/128", "2001:1::2/128", "2001:1::3/128", "2001:3::/32",
        "2001:4:112::/48", "2001:20::/28", "2001:30::/28",
    )
)  # fmt: skip
# A socket bound to a multicast group hears what reaches that group, and how far a group
# reaches is its scope, not whether the address is "global": mDNS (224.0.0.251, ff02::fb)
# never leaves the link, SSDP and WS-Discovery (239.255.255.250) stay in the organisation.
_IPV4_LINK_LOCAL_GROUPS = ipaddress.ip_network("224.0.0.0/24")  # RFC 5771, never forwarded
_IPV4_ADMIN_SCOPED_GROUPS = ipaddress.ip_network("239.0.0.0/8")  # RFC 2365
# The scope field of an IPv6 multicast address (RFC 7346). 6 and 7 lie between site and
# organisation; 9 to D may reach beyond the organisation and count as public, like E (global)
# and the reserved 0 and F.
_IPV6_GROUP_SCOPES = {
    0x1: BindScope.LOOPBACK,  # interface-local: loopback transmission only
    0x2: BindScope.LINK_LOCAL,
    **dict.fromkeys(range(0x3, 0x9), BindScope.PRIVATE),  # realm, admin, site ... organisation
}


@lru_cache(maxsize=4096)
def classify_scope(address: str, interface: str | None = None) -> BindScope:
    """Classify a canonical local address (``ipaddress`` text form, or ``*``).

    A socket bound to the ``lo`` interface is loopback whatever its address; an IPv4-mapped
    IPv6 address is classified as the IPv4 address it carries. Text that is not an address
    (a host name a non-numeric listing resolved) is treated as public, the cautious answer,
    except the names of the loopback addresses themselves (``localhost``, ``ip6-localhost``).
    """
    if address in _WILDCARDS:
        return BindScope.LOOPBACK if interface in _LOOPBACK_INTERFACES else BindScope.ANY
    if interface in _LOOPBACK_INTERFACES:
        return BindScope.LOOPBACK
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return BindScope.LOOPBACK if address.lower() in _LOOPBACK_NAMES else BindScope.PUBLIC
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return _classify_ip(ip)


def name_family(name: str, peer: str | None) -> Family:
    """The family of a socket whose local address a listing printed as a host name (``ss
    -r``): a loopback name's own, else the peer's (``[::]:*`` is IPv6), else IPv4."""
    family = _LOOPBACK_NAMES.get(name.lower())
    if family is not None:
        return family
    return Family.IPV6 if peer is not None and ":" in peer else Family.IPV4


def loopback_address(name: str, family: Family) -> str | None:
    """The address a loopback name stands for in a socket of ``family`` (``localhost`` is
    127.0.0.1 or ::1), so that it can be checked against a CIDR; None for any other text."""
    if name.lower() not in _LOOPBACK_NAMES:
        return None
    return _LOOPBACK_ADDRESS[family]


def _classify_ip(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> BindScope:
    if ip.is_unspecified:
        return BindScope.ANY
    if ip.is_multicast:
        return _classify_group(ip)
    if ip.is_loopback:
        return BindScope.LOOPBACK
    if ip.is_link_local:
        return BindScope.LINK_LOCAL
    if any(ip in block for block in _NOT_GLOBAL) and not any(ip in b for b in _GLOBAL_INSIDE):
        return BindScope.PRIVATE
    return BindScope.PUBLIC


def _classify_group(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> BindScope:
    if isinstance(ip, ipaddress.IPv6Address):
        return _IPV6_GROUP_SCOPES.get(ip.packed[1] & 0x0F, BindScope.PUBLIC)
    if ip in _IPV4_LINK_LOCAL_GROUPS:
        return BindScope.LINK_LOCAL
    if ip in _IPV4_ADMIN_SCOPED_GROUPS:
        return BindScope.PRIVATE
    return BindScope.PUBLIC
