"""The rule contract: a validated piece of policy that turns one snapshot into findings.

Each rule kind is one module under ``fleetaudit/policy/rules/`` defining one subclass of
:class:`Rule`: its schema (the keys it accepts in the policy file) and its ``check``. The
kind registry in :mod:`fleetaudit.policy.schema` maps each ``kind:`` string to its class.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field, field_validator

from fleetaudit.model.enums import BindScope, Family, Privilege, Severity, Tool
from fleetaudit.model.finding import Finding, fingerprint, rule_reference
from fleetaudit.model.host import HostSnapshot, split_privilege_note
from fleetaudit.model.socket import Socket
from fleetaudit.policy.doubts import rests_on_doubt, unshown_facts
from fleetaudit.policy.matchers import SocketMatch, invalid, ipv4_mapped, owner_visible
from fleetaudit.policy.selectors import HostSelector

RULE_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"
"""Rule ids end up in fingerprints, SARIF and shell pipelines: keep them plain."""


class Rule(BaseModel, ABC):
    """Keys every rule has, whatever its kind."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(max_length=64)
    kind: str
    severity: Severity
    description: str = Field(min_length=1)
    """Why the rule exists; quoted in every finding so the reader knows what is at stake."""
    fix: str | None = None
    """What to do about a finding, when that is obvious (e.g. the config line to change)."""
    select: HostSelector = HostSelector()

    @field_validator("id")
    @classmethod
    def _plain_id(cls, value: str) -> str:
        if not re.fullmatch(RULE_ID_PATTERN, value):
            raise invalid(
                f"rule id {value!r}: use letters, digits, '.', '_' and '-', starting with a "
                "letter or digit (ids appear in fingerprints, reports and shell pipelines)"
            )
        return value

    @abstractmethod
    def check(self, snapshot: HostSnapshot, applicable: Sequence[Rule]) -> Iterator[Finding]:
        """Findings for ``snapshot``, in socket order.

        ``applicable`` is every rule of the policy that applies to this host, in file
        order, for kinds whose rules combine (allowlists are unioned per host).
        """

    def waiver_names(self, applicable: Sequence[Rule]) -> frozenset[str]:
        """The rule ids a waiver may name to cover this rule's findings on a host where
        ``applicable`` apply: its own."""
        return frozenset((self.id,))

    def concerns(self, socket: Socket) -> str | None:
        """What this rule checked about ``socket`` when it found nothing wrong, in words
        (``policy explain``); None when the rule does not look at such a socket."""
        return None

    def finding(
        self,
        snapshot: HostSnapshot,
        socket: Socket | None,
        what: str,
        *extra: str,
        severity: Severity | None = None,
    ) -> Finding:
        """A finding saying ``what`` is wrong, then why (description) and what to do (fix).

        ``extra`` joins the fingerprint when one rule can report one socket several ways;
        its first part names the finding's kind (:attr:`Finding.aspect`).
        """
        message = f"{what}{rule_reference(self.id)}{_sentence(self.description)}"
        if self.fix:
            message += f" Fix: {_sentence(self.fix)}"
        return Finding(
            rule_id=self.id,
            severity=severity or self.severity,
            host=snapshot.host,
            message=message,
            socket=socket,
            fingerprint=fingerprint(self.id, snapshot.host, socket, *extra),
            aspect=extra[0] if extra else None,
        )


def describe_listener(socket: Socket) -> str:
    """``mysqld listens on 0.0.0.0:3306/tcp (any address)``, honest about unknown owners."""
    owner = ", ".join(socket.process_names) or _nameless_owner(socket)
    return f"{owner} listens on {socket.endpoint}/{socket.proto.value} ({describe_scope(socket)})"


def describe_scope(socket: Socket) -> str:
    """The bind scope in words an operator reads without a manual."""
    if socket.bind_scope is BindScope.ANY:
        if socket.family is Family.IPV6 and ipv4_mapped(socket.local_address):
            return "any IPv4 address"  # ::ffff:0.0.0.0, an IPv6 socket for IPv4 only
        if socket.accepts_ipv4:
            return "any address, IPv6 and IPv4"
        if socket.accepts_ipv4 is False:
            return "any IPv6 address"  # v6only: the same words as 0.0.0.0 would mislead
        return "any address"
    return f"{socket.bind_scope.value} address"


def doubt_notes(snapshot: HostSnapshot, socket: Socket, matches: Sequence[SocketMatch]) -> str:
    """What a finding on ``socket`` by ``matches`` rests on that the listing did not show:
    an owner nobody could see, a fact the rule assumed (see the two notes)."""
    return _owner_note(snapshot, socket, matches) + _assumption_note(socket, matches)


def _owner_note(snapshot: HostSnapshot, socket: Socket, matches: Sequence[SocketMatch]) -> str:
    """A note for findings on sockets whose owner could not be seen, with the reason; none
    when no matcher of the rule names a process (its port did not stand in for one)."""
    if owner_visible(socket) or not any(match.names_processes for match in matches):
        return ""
    return f" (owner unknown: {owner_gap(snapshot).because}, so judged by port alone)"


def _assumption_note(socket: Socket, matches: Sequence[SocketMatch]) -> str:
    """A note for a finding that rests on a fact the listing did not show (the socket's uid,
    whether an IPv6 wildcard also takes IPv4), which the rule counted the worst way: without
    it, the finding reads as a fact about the socket (QA: every listener of a host listed
    without ``-e`` "runs as nobody"). Empty when the finding rests on no such fact."""
    facts = unshown_facts(socket, matches) if rests_on_doubt(socket, matches) else ""
    return f" (the listing does not show {facts}: the rule assumed the worst)" if facts else ""


@dataclass(frozen=True, slots=True)
class OwnerGap:
    """Why a host's listing leaves owners unknown, and what would make them known."""

    because: str
    remedy: str
    privilege: bool
    """True when privilege is what was missing (root would have seen the owners)."""


_INSTALL_SS = "Install ss (iproute2) on the host"
_GET_ROOT = "Allow passwordless `sudo -n` for the audit user's socket listing, or audit as root"


def owner_gap(snapshot: HostSnapshot) -> OwnerGap:
    """Why owners are unknown on ``snapshot``'s host: no privilege; a listing tool that names
    no processes at all (/proc/net, a busybox netstat built without ``-p``), which privilege
    would not change; or ss as root seeing none of them (their processes are in another PID
    namespace, as when the audit lands in a container that shares the host's network, or
    their ``/proc/PID/fd`` is closed even to root)."""
    if snapshot.tool is Tool.PROC:
        return OwnerGap("/proc/net names no processes", _INSTALL_SS, privilege=False)
    if snapshot.privilege is not Privilege.ROOT:
        _, fix = split_privilege_note(snapshot.privilege_note or "")
        return OwnerGap("audited without privilege", fix or _GET_ROOT, privilege=True)
    if snapshot.hidden_processes:
        return OwnerGap(
            f"/proc hides other users' processes from the login user (hidepid), so the "
            f"{snapshot.hidden_processes} listener process(es) netstat named as root could not "
            "be named by comm, and netstat's piece of a command line is no name to judge by",
            "Install ss (iproute2) on the host, or add the audit user to the group that "
            "/proc's gid= mount option names",
            privilege=False,
        )
    # A netstat that names the owner of no listener has no -p; one that names some saw
    # only part of the processes, as ss may (listeners: few, and every rule has them).
    if snapshot.tool is Tool.NETSTAT and not any(s.processes for s in snapshot.listeners):
        because = "the host's netstat cannot name processes (built without -p)"
        return OwnerGap(because, _INSTALL_SS, privilege=False)
    if snapshot.tool is Tool.SS and not any(s.processes for s in snapshot.sockets):
        # a saved `ss -tuan` looks the same as `ss -tuanp` run where no owner is visible
        return OwnerGap(
            "ss named no process at all: the listing was taken without -p, or as root "
            "where the owning processes cannot be seen",
            "Take the listing with -p (ss -tuanpe) on the host itself, not in a container "
            "that shares its network, and check that root may read /proc/PID/fd there",
            privilege=False,
        )
    tool = snapshot.tool.value if snapshot.tool is not None else "the listing tool"
    return OwnerGap(
        f"{tool} ran as root but could not see the owning processes",
        "Audit the host itself, not a container that shares its network, and check that "
        "root may read /proc/PID/fd there",
        privilege=False,
    )


def _nameless_owner(socket: Socket) -> str:
    return "a process nobody could name" if not owner_visible(socket) else "the kernel (no process)"


def _sentence(text: str) -> str:
    text = " ".join(text.split())
    return text if text.endswith((".", "!", "?")) else text + "."
