"""A policy finding: what is wrong, where, how bad, and a fingerprint that stays stable
across runs so history and diff can follow it."""

from __future__ import annotations

import hashlib

from pydantic import BaseModel, ConfigDict

from fleetaudit.model.enums import Severity
from fleetaudit.model.socket import Socket


class Finding(BaseModel):
    """One violation of one rule on one host (and usually one socket)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    rule_id: str
    severity: Severity
    host: str
    message: str
    socket: Socket | None = None
    fingerprint: str

    @property
    def process(self) -> str:
        """The offending socket's owner, for display."""
        return self.socket.owner_label if self.socket is not None else ""


def fingerprint(rule_id: str, host: str, socket: Socket | None, *extra: str) -> str:
    """A stable identity for a finding: the same problem on the same host and listener gives
    the same fingerprint run after run. Process ids are left out on purpose (a restart is not
    a new problem); process names, protocol, address and port are in."""
    parts = [rule_id, host]
    if socket is not None:
        parts += [
            socket.proto.value,
            socket.local_address,
            socket.local_interface or "",
            str(socket.local_port),
            ",".join(sorted(socket.process_names)),
        ]
    parts += extra
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()
    return digest[:32]
