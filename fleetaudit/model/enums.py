"""The shared vocabulary of every stage: protocols, states, scopes, statuses, severities."""

from __future__ import annotations

from enum import StrEnum


class Proto(StrEnum):
    """Transport protocol of a socket."""

    TCP = "tcp"
    UDP = "udp"


class Family(StrEnum):
    """Address family of a socket."""

    IPV4 = "ipv4"
    IPV6 = "ipv6"


class SocketState(StrEnum):
    """One state enum for every tool (ss spells ``ESTAB``, ``FIN-WAIT-2``...; netstat
    ``ESTABLISHED``, ``FIN_WAIT2``; /proc/net a hex code). ``UNCONN`` is unconnected UDP,
    which netstat prints with an empty State column."""

    LISTEN = "LISTEN"
    ESTABLISHED = "ESTABLISHED"
    SYN_SENT = "SYN_SENT"
    SYN_RECV = "SYN_RECV"
    FIN_WAIT1 = "FIN_WAIT1"
    FIN_WAIT2 = "FIN_WAIT2"
    TIME_WAIT = "TIME_WAIT"
    CLOSE = "CLOSE"
    CLOSE_WAIT = "CLOSE_WAIT"
    LAST_ACK = "LAST_ACK"
    CLOSING = "CLOSING"
    UNCONN = "UNCONN"


class BindScope(StrEnum):
    """Who can reach a local address: the security question of a listener."""

    LOOPBACK = "loopback"
    """127.0.0.0/8, ::1, ::ffff:127.0.0.0/104, interface-local multicast (ff01::/16), or
    bound to the ``lo`` interface."""
    LINK_LOCAL = "link-local"
    """169.254.0.0/16, fe80::/10, and multicast that never leaves the link (224.0.0.0/24,
    ff02::/16)."""
    PRIVATE = "private"
    """RFC 1918, RFC 4193 (fc00::/7), CGNAT 100.64.0.0/10 and other non-global ranges, and
    multicast scoped to a site or organisation (239.0.0.0/8, ff03:: to ff08::)."""
    PUBLIC = "public"
    """Any globally routable address, multicast of wider or unknown scope included."""
    ANY = "any"
    """A wildcard: 0.0.0.0, ::, or ss's ``*``."""


class Tool(StrEnum):
    """Which command produced a socket listing."""

    SS = "ss"
    NETSTAT = "netstat"
    PROC = "proc"


class Privilege(StrEnum):
    """Whether the listing could see every process's sockets."""

    ROOT = "root"
    """Ran as uid 0 (directly or through ``sudo -n``): process attribution is complete."""
    UNPRIVILEGED = "unprivileged"
    """Other users' processes are invisible: sockets may have an unknown owner."""


class HostStatus(StrEnum):
    """The outcome of auditing one host; everything but ``ok`` means "not audited"."""

    OK = "ok"
    UNRESOLVABLE = "unresolvable"
    UNREACHABLE = "unreachable"
    TIMEOUT = "timeout"
    AUTH_FAILED = "auth_failed"
    HOST_KEY_UNKNOWN = "host_key_unknown"
    HOST_KEY_CHANGED = "host_key_changed"
    CONNECTION_LOST = "connection_lost"
    SSH_ERROR = "ssh_error"
    COMMAND_FAILED = "command_failed"
    PARSE_ERROR = "parse_error"
    INTERRUPTED = "interrupted"
    """The run was stopped (SIGINT/SIGTERM) before this host finished."""

    @property
    def audited(self) -> bool:
        """True when the host's sockets were read and judged."""
        return self is HostStatus.OK


class Severity(StrEnum):
    """Finding severity, ordered; ``--fail-on`` compares against it."""

    INFO = "info"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        """0 for info up to 4 for critical."""
        return _SEVERITY_ORDER.index(self)


_SEVERITY_ORDER = tuple(Severity)
