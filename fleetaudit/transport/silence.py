"""A jump-host connection that goes silent: given up, so that later hosts get a new one.

A firewall or NAT on the way that forgets the connection (a failover, a full state table)
closes nothing. Without a limit, every later host behind the jump host waited on the dead
connection and failed, until TCP gave up after about 15 minutes, or never when the
firewall still acknowledged. SSH keepalives set the limit: asyncssh asks after each
``keepalive_interval`` without a byte from the jump host, and closes the connection once
``keepalive_count_max`` questions went unanswered, one interval after the last. A live
jump host answers at once, however quiet its tunnels are, and a busy one is never asked.

The run's limit is the host deadline: by then every host on a silent connection has failed
by its own deadline, so giving the connection up loses no listing. A tunnel that times out
while opening is the first sign, so the limit then shortens to twice the connect timeout,
counted from that moment: a live jump host answers well within it (the target may be the
one that is down), and a dead connection is given up after a handful of hosts instead of
a host deadline's worth. ssh_config's ``ServerAliveInterval`` for the jump host, where set,
is the user's choice and wins (asyncssh applies it; 0 turns keepalives off).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import asyncssh

from fleetaudit.errors import TransportError
from fleetaudit.model.enums import HostStatus
from fleetaudit.model.jumpspec import JumpSpec

UNANSWERED_KEEPALIVES = 2
"""Keepalives a silent jump host is sent before its connection is given up: a lost packet
alone does not end it, and the check stays cheap (one request per third of the limit)."""

OPENSSH_COUNT_MAX = 3
"""ssh_config's ServerAliveCountMax when it gives none (OpenSSH's default)."""


@dataclass(frozen=True, slots=True)
class SilenceLimit:
    """How long a jump connection may send nothing before it is given up, and who said so:
    fleetaudit (``interval`` None), or ssh_config's ``ServerAliveInterval``/``CountMax``."""

    seconds: float
    interval: int | None = None
    count_max: int | None = None

    @classmethod
    def for_jump(
        cls, limit: float | None, interval: int | None, count_max: int | None
    ) -> SilenceLimit | None:
        """The limit for a jump host: ssh_config's where it sets ServerAliveInterval (None
        for 0: no keepalives), else ``limit`` (None: none)."""
        if interval is not None:
            count = OPENSSH_COUNT_MAX if count_max is None else count_max
            return cls(interval * (count + 1), interval, count) if interval > 0 else None
        return None if limit is None else cls(limit)

    @property
    def ours(self) -> bool:
        """Whether fleetaudit set it (and may shorten it); else ssh_config did."""
        return self.interval is None

    def options(self) -> dict[str, Any]:
        """asyncssh's keepalive options for it (none for ssh_config's: asyncssh reads them)."""
        if not self.ours:
            return {}
        return {
            "keepalive_interval": self.seconds / (UNANSWERED_KEEPALIVES + 1),
            "keepalive_count_max": UNANSWERED_KEEPALIVES,
        }

    def shortened(self, connect_timeout: float) -> SilenceLimit | None:
        """The limit after a tunnel timed out while opening, if it changes (see above)."""
        seconds = 2 * connect_timeout
        return replace(self, seconds=seconds) if self.ours and seconds < self.seconds else None

    def apply_to(self, connection: asyncssh.SSHClientConnection) -> None:
        """Make ``connection`` keep this limit, counted from now."""
        options = self.options()
        connection.set_keepalive(options["keepalive_interval"], options["keepalive_count_max"])

    def __str__(self) -> str:
        if self.ours:
            return f"{self.seconds:g} s"
        return (
            f"about {self.seconds:g} s (ssh_config's ServerAliveInterval {self.interval}, "
            f"ServerAliveCountMax {self.count_max})"
        )


def given_up_for_silence(
    error: TransportError, spec: JumpSpec, lost: Exception | None, limit: SilenceLimit | None
) -> TransportError:
    """``error`` of a host behind ``spec``, saying so when the jump connection under it was
    closed (``lost``) for answering no keepalive: the operator's lead is then a firewall or
    NAT on the way, not the jump host's sshd. ``limit``: the silence allowed, if known."""
    silent = isinstance(lost, asyncssh.ConnectionLost) and "keepalive" in lost.reason
    if error.status is not HostStatus.CONNECTION_LOST or not silent:
        return error
    silence = f" for {limit}" if limit else ""
    head = error.message.partition(" (it went through the jump host")[0]
    return TransportError(
        error.status,
        f"{head}: jump host {spec} sent nothing{silence}, not even an answer to keepalives, "
        "so its connection was given up (a firewall or NAT on the way may have dropped "
        "it); the hosts after this one get a new connection",
    )
