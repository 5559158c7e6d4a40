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
    """The run was stopped (SIGINT, SIGTERM or SIGHUP) before this host finished."""

    @property
    def audited(self) -> bool:
        """True when the host's sockets were read and judged."""
        return self is HostStatus.OK

    @property
    def unreachable(self) -> bool:
        """True when the host could not be *reached*: the network or the host was down, or
        it did not answer in time. These are the only failures ``--allow-unreachable``
        accepts: they come and go with outages, reveal nothing about the host, and cannot
        be fixed by the auditor. The rest mean the host was reached and refused or failed
        the audit (a changed key may be a man-in-the-middle), so they always make exit 2.
        See ``_NOT_REACHED`` for the reasoning on each status."""
        return self in _NOT_REACHED


_NOT_REACHED = frozenset(
    {
        # DNS does not know the name: a host decommissioned or a resolver outage. Nothing
        # answered, so nothing can be wrong with what it said.
        HostStatus.UNRESOLVABLE,
        # Refused, reset, no route: sshd or the host is down, or the network is.
        HostStatus.UNREACHABLE,
        # No answer in time (TCP connect, SSH login, or the host deadline before the
        # listing started): a host down behind a firewall that drops packets, or too
        # loaded to answer. The audit saw no reply, so a timeout is an outage, not a
        # verdict on the host.
        HostStatus.TIMEOUT,
        # The connection dropped before the listing started (a reboot, a network flap):
        # no reply to judge.
        HostStatus.CONNECTION_LOST,
    }
)
"""The statuses of a host the audit could not reach (:attr:`HostStatus.unreachable`).

Never in it: ``host_key_unknown`` and ``host_key_changed`` (the host answered with a key
fleetaudit cannot trust: a new host, a reinstall or a man-in-the-middle); ``auth_failed``
(the audit key was refused or could not be read: auditing is broken until someone fixes
it); ``ssh_error`` (the SSH exchange itself failed: misconfiguration, a protocol
mismatch, or a fleetaudit bug); ``command_failed`` and ``parse_error`` (the host was
reached but its listing failed or could not be read: a listener could hide there);
this includes a listing that stalled, was dropped or was cut once the command started
(``--command-timeout``, the connection lost mid-listing, the host deadline passing during
it, a channel closed without an exit status): a host that was reached and then stops
answering may be doing so on purpose, and a compromised host must not be able to leave
the audit by looking like an outage. A real outage that strikes mid-listing is rare and
fails the run once, which is the cheaper error;
``interrupted`` (the run was stopped, not the host: a shard report of a stopped run must
not merge into a clean fleet).
"""


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


class HostKeyPolicy(StrEnum):
    """How host keys were verified during the run."""

    STRICT = "strict"
    """Only keys already in known_hosts are accepted (the default)."""
    ACCEPT_NEW = "accept-new"
    """Unknown keys are learnt into fleetaudit's own file; changed keys are refused."""
    INSECURE = "insecure-no-host-key-check"
    """No verification at all; every report says so."""
    NOT_APPLICABLE = "not-applicable"
    """No SSH at all (``fleetaudit check`` on saved captures): no host key was offered, so
    none was checked or skipped. A token like the others, for machines; reports print
    :func:`~fleetaudit.report.summary.host_keys_label` for people."""
