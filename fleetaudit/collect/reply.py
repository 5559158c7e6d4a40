"""Read the header the collection script prints before the tool output."""

from __future__ import annotations

from dataclasses import dataclass, field

from fleetaudit.errors import TransportError
from fleetaudit.model.enums import HostStatus, Privilege, Tool

_MARK = "@@"
_FIRST = "@@fleetaudit "
_OUTPUT = "@@output"
_STARTUP_LINES = 64
"""Lines a login shell may print before the script starts (an ``echo`` in a ``.bashrc``,
a message of the day): skipped, up to this many."""
COUNTERS = ("ListenOverflows", "ListenDrops")


@dataclass(frozen=True, slots=True)
class Reply:
    """What the collection script said about the host, and the tool's output."""

    tool: Tool
    privilege: Privilege
    uid: str | None
    sudo_refused: str | None
    output: str
    """The tool's output; parse errors count lines from its first line."""
    counters: dict[str, int] = field(default_factory=dict)
    """Kernel TCP counters the script read (``ListenOverflows``, ``ListenDrops``)."""
    command: str | None = None
    """The listing command line the script ran (``netstat -tuanpeW``); None for /proc/net."""

    @property
    def wide(self) -> bool:
        """True when the listing prints every address whole: netstat ran with ``-W``."""
        if self.command is None or self.tool is not Tool.NETSTAT:
            return False
        options = self.command.split()[1:]
        return any(o.startswith("-") and not o.startswith("--") and "W" in o for o in options)


def parse_reply(stdout: str) -> Reply:
    """Split the script's ``@@`` header from the tool output.

    What a login shell printed before the script started is skipped. Raises
    TransportError(COMMAND_FAILED) when the reply is not from our script (a forced command in
    authorized_keys, a restricted shell...).
    """
    if not stdout.strip():
        raise TransportError(
            HostStatus.COMMAND_FAILED,
            "the command printed nothing (a forced command, or a shell that did not run it?)",
        )
    fields: dict[str, str] = {}
    position = _script_start(stdout)
    line_no = stdout.count("\n", 0, position)
    while True:
        end = stdout.find("\n", position)
        line = stdout[position:] if end < 0 else stdout[position:end]
        line_no += 1
        if line == _OUTPUT:
            output = "" if end < 0 else stdout[end + 1 :]
            return _reply(fields, output)
        if not line.startswith(_MARK) or end < 0:
            raise TransportError(HostStatus.COMMAND_FAILED, _unexpected(line, line_no))
        key, _, value = line[len(_MARK) :].partition(" ")
        fields[key] = value
        position = end + 1


def _script_start(stdout: str) -> int:
    """Where the script's first header starts, after at most ``_STARTUP_LINES`` lines of
    shell start-up output (the last of which may lack its newline: ``printf Welcome``);
    0 when there is none, so that the strict reading names the first line that is not the
    script's."""
    end = 0
    for _ in range(_STARTUP_LINES + 1):
        end = stdout.find("\n", end) + 1
        if end == 0:
            end = len(stdout)
            break
    found = stdout.find(_FIRST, 0, end)
    return max(found, 0)


def _reply(fields: dict[str, str], output: str) -> Reply:
    if "fleetaudit" not in fields:
        raise TransportError(HostStatus.COMMAND_FAILED, "reply lacks the @@fleetaudit header")
    try:
        tool = Tool(fields.get("tool", ""))
        privilege = Privilege(fields.get("privilege", ""))
    except ValueError as exc:
        raise TransportError(HostStatus.COMMAND_FAILED, f"malformed script header: {exc}") from exc
    return Reply(
        tool=tool,
        privilege=privilege,
        uid=fields.get("uid"),
        sudo_refused=fields.get("sudo-refused"),
        output=output,
        counters={
            k: int(v) for k, v in fields.items() if k in COUNTERS and v.isascii() and v.isdigit()
        },
        command=fields.get("command"),
    )


def _unexpected(line: str, line_no: int) -> str:
    shown = line[:120] + ("..." if len(line) > 120 else "")
    return (
        f"unexpected output on line {line_no} before the socket listing: {shown!r} "
        "(a forced command or a restricted shell?)"
    )
