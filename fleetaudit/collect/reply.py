"""Read the header the collection script prints before the tool output."""

from __future__ import annotations

from dataclasses import dataclass, field

from fleetaudit.errors import TransportError
from fleetaudit.model.enums import HostStatus, Privilege, Tool

_MARK = "@@"
_OUTPUT = "@@output"
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


def parse_reply(stdout: str) -> Reply:
    """Split the script's ``@@`` header from the tool output.

    Raises TransportError(COMMAND_FAILED) when the reply is not from our script (a forced
    command in authorized_keys, a restricted shell, a login banner on stdout...).
    """
    fields: dict[str, str] = {}
    position = 0
    line_no = 0
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
        counters={k: int(v) for k, v in fields.items() if k in COUNTERS and v.isdigit()},
    )


def _unexpected(line: str, line_no: int) -> str:
    shown = line[:120] + ("..." if len(line) > 120 else "")
    return (
        f"unexpected output on line {line_no} before the socket listing: {shown!r} "
        "(a forced command, a restricted shell or a login banner on stdout?)"
    )
