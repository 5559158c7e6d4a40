"""Answer the collection script the way a real host would, from a recorded listing.

Simulated hosts (the demo, tests, ``fleetaudit check``) do not run a shell: they recognise
fleetaudit's constant script and reply with its ``@@`` header followed by a recorded
``ss``/``netstat``//proc/net listing.
"""

from __future__ import annotations

from dataclasses import dataclass

from fleetaudit.collect.commands import BECOME_SCRIPTS, SCRIPTS
from fleetaudit.model.enums import Privilege, Tool


@dataclass(frozen=True, slots=True)
class RecordedHost:
    """What a simulated host has: a listing, the tool that made it, and its sudo rights."""

    tool: Tool
    listing: str
    login_uid: int = 1000
    sudo_allowed: bool = True
    command: str | None = None
    """The command line that made the listing, when known (``netstat -tuanpeW``)."""
    ephemeral: tuple[int, int] | None = None
    """The host's ``ip_local_port_range``, when it is said (the demo's hosts); a saved
    capture does not say it."""

    def reply(self, command: str) -> tuple[int, str, str]:
        """``(exit_status, stdout, stderr)`` for ``command``, like ``sh -c`` on the host."""
        if command not in SCRIPTS:
            return 127, "", f"sh: 1: {command.split()[0] if command else ''}: not found\n"
        header = ["@@fleetaudit 1", f"@@uid {self.login_uid}", f"@@tool {self.tool.value}"]
        if self.ephemeral is not None:
            header.insert(2, "@@ephemeral {} {}".format(*self.ephemeral))
        if self.command is not None:
            header.append(f"@@command {self.command}")
        header.append(f"@@privilege {self._privilege(command).value}")
        if self._sudo_refused(command):
            tool_path = f"/usr/bin/{self.command or 'ss -tuanpe'}"
            header[3:3] = [
                f"@@sudo-command {tool_path}",
                "@@sudo-refused sudo: a password is required",
            ]
        return 0, "\n".join([*header, "@@output", self.listing]), ""

    def _privilege(self, command: str) -> Privilege:
        if self.login_uid == 0 or (command in BECOME_SCRIPTS and self.sudo_allowed):
            return Privilege.ROOT if self.tool is not Tool.PROC else Privilege.UNPRIVILEGED
        return Privilege.UNPRIVILEGED

    def _sudo_refused(self, command: str) -> bool:
        return (
            command in BECOME_SCRIPTS
            and self.login_uid != 0
            and not self.sudo_allowed
            and self.tool is not Tool.PROC
        )
