"""``allowlist``: a closed world of expected listeners for the hosts it selects.

Every listener (TCP LISTEN, unconnected UDP) on a selected host must be covered by an entry
of ``allow:``; anything else is an "unexpected listener". When several allowlist rules
apply to one host (say ``web-allow`` for group web and ``base-allow`` for every host), their
entries are unioned: a listener is expected if any of them allows it. The findings are
reported once, under the applicable allowlist of the highest severity (the first such in
file order: a db host stays strict even if a lax base list also applies), and name every
allowlist consulted.

Select allowlists by group or label: a host no allowlist selects is not closed-world checked.
A listener whose owner is unknown is covered by an entry with a ``port`` that matches
(see :mod:`fleetaudit.policy.matchers`), and not by a process-only entry. An entry excuses
a listener, so a fact the listing could not establish (whether ``:::80`` from netstat also
takes IPv4) counts as unmet (:attr:`Lean.EXCUSE`): doubt never allows a listener.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Literal

from pydantic import Field

from fleetaudit.model.enums import Proto
from fleetaudit.model.finding import Finding
from fleetaudit.model.host import HostSnapshot
from fleetaudit.model.names import may_be_cut
from fleetaudit.model.socket import Socket
from fleetaudit.policy.matchers import Lean, SocketMatch, owner_judgement
from fleetaudit.policy.rules.interface import Rule, describe_listener, doubt_notes


class AllowlistRule(Rule):
    """The listeners a selected host may have; every other listener is a finding."""

    kind: Literal["allowlist"]
    allow: tuple[SocketMatch, ...] = Field(min_length=1)

    def concerns(self, socket: Socket) -> str | None:
        """The entry that allows a listener."""
        if not socket.is_listener:
            return None
        for index, entry in enumerate(self.allow, start=1):
            if entry.matches(socket, Lean.EXCUSE):
                note = owner_judgement(entry, socket, Lean.EXCUSE)
                return f"allowed by {self.id} entry {index}" + (f" ({note})" if note else "")
        return None

    def waiver_names(self, applicable: Sequence[Rule]) -> frozenset[str]:
        """Every applicable allowlist's id: the findings are filed under one of them, but
        each names every list consulted, and a waiver written for the list that should have
        allowed the listener must cover it."""
        return frozenset(rule.id for rule in applicable if isinstance(rule, AllowlistRule))

    def check(self, snapshot: HostSnapshot, applicable: Sequence[Rule]) -> Iterator[Finding]:
        """Unexpected listeners, when this is the allowlist they are filed under: of those
        applying to the host, the first of the highest severity, so that a finding's rule
        (its description, SARIF's security-severity) has the finding's severity."""
        lists = [rule for rule in applicable if isinstance(rule, AllowlistRule)]
        if not lists or max(lists, key=lambda rule: rule.severity.rank) is not self:
            return
        severity = self.severity
        plural = "allowlists" if len(lists) > 1 else "allowlist"
        names = f"{plural} " + ", ".join(f"'{rule.id}'" for rule in lists)
        for socket in snapshot.listeners:
            entries = [entry for rule in lists for entry in rule.allow]
            if not any(entry.matches(socket, Lean.EXCUSE) for entry in entries):
                note = doubt_notes(snapshot, socket, entries)
                what = f"unexpected listener: {describe_listener(socket)}{note}"
                what += f"; no entry of {names} covers it{_client_hint(snapshot, socket)}"
                yield self.finding(snapshot, socket, what, severity=severity)


EPHEMERAL_PORTS = (32768, 60999)
"""Linux's default ``ip_local_port_range``: where the kernel picks the port of a UDP socket
that sends without binding one first."""


def _client_hint(snapshot: HostSnapshot, socket: Socket) -> str:
    """For a UDP socket of a named program on a port in the host's ephemeral range (Linux's
    default when the collection did not read it): such a socket is often a client's (a DNS
    lookup, an NTP query), which a listing cannot tell from a service, and it has another
    port every night. Says how to allow it for that program rather than leaving it out of
    the audit: a service on such a port (WireGuard's 51820) must stay a finding until
    someone allows it. Names are written as YAML double-quoted strings, so that any name
    pastes into a policy as itself."""
    low, high = snapshot.ephemeral_ports or EPHEMERAL_PORTS
    whose = "the host's" if snapshot.ephemeral_ports else "Linux's default"
    port = socket.local_port
    if socket.proto is not Proto.UDP or port is None or not low <= port <= high:
        return ""
    names = socket.program_names
    if not names:
        return ""  # an owner nobody could name: allowing by port alone would hide services
    quoted = [json.dumps(name) for name in names]
    process = quoted[0] if len(quoted) == 1 else f"[{', '.join(quoted)}]"
    cut = any(may_be_cut(p.name, p.pid, p.is_comm) for p in socket.processes)
    caveat = " (the listing may have cut that name: write the program's whole name)"
    return (
        f"; port {port} is in {whose} ephemeral range ({low}-{high}): if {', '.join(names)} "
        "is a client there (a DNS lookup, an NTP query), its port changes every run; allow "
        f'it with {{process: {process}, proto: udp, port: "{low}-{high}"}}'
        + (caveat if cut else "")
    )
