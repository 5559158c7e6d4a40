"""A policy finding: what is wrong, where, how bad, and a fingerprint that stays stable
across runs so history and diff can follow it."""

from __future__ import annotations

import hashlib
from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from fleetaudit.model.enums import Severity
from fleetaudit.model.socket import Socket


class AppliedWaiver(BaseModel):
    """The policy waiver that matched a finding, and whether it still holds."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    reason: str
    expires: date
    ticket: str | None = None
    expired: bool
    """True once ``expires`` has passed: the finding counts again, and reports say why."""


class Finding(BaseModel):
    """One violation of one rule on one host (and usually one socket)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    rule_id: str
    severity: Severity
    host: str
    message: str
    socket: Socket | None = None
    fingerprint: str
    waiver: AppliedWaiver | None = None
    aspect: str | None = Field(default=None, exclude=True)
    """Which kind of its rule's findings this is, where a rule reports several kinds (a
    ``coverage`` gap: ``unread``, ``host-key``...), for a waiver's ``gap:``. Never written
    out: only the judging of the run that found it reads it."""

    @property
    def waived(self) -> bool:
        """True when an unexpired waiver covers this finding: it is reported, marked, and
        never counts toward the exit code."""
        return self.waiver is not None and not self.waiver.expired

    @property
    def expired_waiver_note(self) -> str:
        """``[waiver expired 2026-01-31: reason] `` when a waiver matched but has expired,
        else empty: every report puts it before the message, so nobody reads a finding that
        counts again as a new one (policies/README.md promises that every report says so)."""
        waiver = self.waiver
        if waiver is None or not waiver.expired:
            return ""
        return f"[waiver expired {waiver.expires}: {waiver.reason}] "

    @property
    def headline(self) -> str:
        """What is wrong, without the rule's explanation and fix that follow it in
        ``message``: the part that differs from one finding of a rule to the next."""
        what, marker, _ = self.message.partition(rule_reference(self.rule_id))
        return f"{what}." if marker else self.message

    @property
    def explanation(self) -> str:
        """The rule's description and fix as ``message`` gives them (after the headline);
        empty for a message written otherwise."""
        return self.message.partition(rule_reference(self.rule_id))[2]

    @property
    def process(self) -> str:
        """The offending socket's owner, for display."""
        return self.socket.owner_label if self.socket is not None else ""


def rule_reference(rule_id: str) -> str:
    """What joins a finding's headline to its rule's explanation in the message
    (``mysqld listens on 0.0.0.0:3306/tcp (any address). Rule 'mysql-loopback': ...``)."""
    return f". Rule '{rule_id}': "


def fingerprint(rule_id: str, host: str, socket: Socket | None, *extra: str) -> str:
    """A stable identity for a finding: the same problem on the same host and listener gives
    the same fingerprint run after run. Process ids are left out on purpose (a restart is not
    a new problem, nor is netstat cutting the renamed command line at another place); program
    names, protocol, address and port are in."""
    parts = [rule_id, host]
    if socket is not None:
        parts += [
            socket.proto.value,
            socket.local_address,
            socket.local_interface or "",
            str(socket.local_port),
            ",".join(socket.program_names),
        ]
    parts += extra
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()
    return digest[:32]
