"""Read the header the collection script prints before the tool output."""

from __future__ import annotations

from dataclasses import dataclass, field

from fleetaudit.errors import TransportError
from fleetaudit.model.enums import HostStatus, Privilege, Tool

_MARK = "@@"
_FIRST = "@@fleetaudit "
_OUTPUT = "@@output"
_REFUSED_AT_RUN = "@@sudo-refused "
"""Starts the second header the script prints when sudo allowed the listing, then refused
to run it: the first listing is empty and the unprivileged one follows that header."""
_STARTUP_LINES = 1000
"""Lines a login shell may print before the script starts (an ``echo`` in a ``.bashrc``,
a message of the day, a long legal banner): skipped, up to this many. Far above any real
MOTD, but bounded: the header is searched for in that much output only."""
_STARTUP_BYTES = 256 * 1024
"""The same bound in bytes, for start-up output of a few very long lines."""
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
    sudo_command: str | None = None
    """With become: the command line sudo was asked to run as root, with the tool's full
    path (``/usr/bin/ss -tuanpe``): what a sudoers rule must allow."""
    ephemeral: tuple[int, int] | None = None
    """The host's ``ip_local_port_range`` (lowest, highest port), when the script read it."""
    ssh_connection: tuple[int, int] | None = None
    """This audit's own SSH connection as the host's SSH server reported it
    (``$SSH_CONNECTION``): its (server port, client port); None when not reported."""
    refused_at_run: bool = False
    """True when ``sudo -l`` allowed the listing but sudo then refused to run it (a
    ``Defaults!CMD requiretty``), so the listing was taken without privilege."""
    comms: dict[int, str] = field(default_factory=dict)
    """PID -> comm of every process on the host when the tool was netstat (``@@comm``):
    the name ss prints, for netstat's names cut from a command line."""

    @property
    def wide(self) -> bool:
        """True when the listing prints every address whole: netstat ran with ``-W``."""
        if self.command is None or self.tool is not Tool.NETSTAT:
            return False
        return _has_flag(self.command, "W")

    @property
    def names_processes(self) -> bool:
        """False when the listing names no process even as root: /proc/net, or a netstat
        run without ``-p`` (a busybox built without it)."""
        if self.tool is Tool.PROC:
            return False
        return self.command is None or _has_flag(self.command, "p")


def _has_flag(command: str, letter: str) -> bool:
    """Whether ``command`` was given the one-letter option ``letter`` (``-tuanpW``)."""
    options = command.split()[1:]
    return any(o.startswith("-") and not o.startswith("--") and letter in o for o in options)


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
    position = _script_start(stdout)
    if position < 0:
        raise TransportError(HostStatus.COMMAND_FAILED, _no_header(stdout))
    fields: dict[str, str] = {}
    comms: dict[int, str] = {}
    line_no = stdout.count("\n", 0, position)
    while True:
        end = stdout.find("\n", position)
        line = stdout[position:] if end < 0 else stdout[position:end]
        line_no += 1
        if line == _OUTPUT:
            output = "" if end < 0 else stdout[end + 1 :]
            if not output.startswith(_REFUSED_AT_RUN):
                return _reply(fields, output, comms)
            # sudo refused to run the listing it had allowed: a second header follows
            fields["refused-at-run"] = ""
            position = end + 1
            continue
        if not line.startswith(_MARK) or end < 0:
            raise TransportError(HostStatus.COMMAND_FAILED, _unexpected(line, line_no))
        key, _, value = line[len(_MARK) :].partition(" ")
        if key == "comm":
            _read_comm(value, comms)
        else:
            fields[key] = value
        position = end + 1


def _read_comm(value: str, comms: dict[int, str]) -> None:
    """One ``@@comm PID NAME`` line into ``comms``; the name is everything after the PID's
    space (a comm may hold spaces)."""
    pid, _, name = value.partition(" ")
    if pid.isascii() and pid.isdigit() and name:
        comms[int(pid)] = name


def _script_start(stdout: str) -> int:
    """Where the script's first header starts, after at most ``_STARTUP_LINES`` lines
    (``_STARTUP_BYTES`` bytes) of shell start-up output, the last of which may lack its
    newline (``printf Welcome``); -1 when it is not there."""
    limit = min(len(stdout), _STARTUP_BYTES)
    end = 0
    for _ in range(_STARTUP_LINES + 1):
        end = stdout.find("\n", end, limit) + 1
        if end == 0:
            end = limit
            break
    return stdout.find(_FIRST, 0, end)


def _reply(fields: dict[str, str], output: str, comms: dict[int, str]) -> Reply:
    if "fleetaudit" not in fields:
        raise TransportError(HostStatus.COMMAND_FAILED, "reply lacks the @@fleetaudit header")
    if "\n" + _REFUSED_AT_RUN in output:
        # the fallback header after listing lines: sudo complained once the tool had
        # printed, so the two listings cannot be told apart; judge neither
        raise TransportError(
            HostStatus.COMMAND_FAILED,
            "sudo refused after the listing had started: the output mixes two listings",
        )
    try:
        tool = Tool(fields.get("tool", ""))
        privilege = Privilege(fields.get("privilege", ""))
    except ValueError:
        raise TransportError(HostStatus.COMMAND_FAILED, _malformed(fields)) from None
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
        sudo_command=fields.get("sudo-command"),
        ephemeral=_port_range(fields.get("ephemeral", "")),
        ssh_connection=_connection_ports(fields.get("ssh-connection", "")),
        refused_at_run="refused-at-run" in fields,
        comms=comms,
    )


def _malformed(fields: dict[str, str]) -> str:
    """Why a header that names no known tool or privilege is refused: fleetaudit's script
    always names both, so something else on the host printed lines that look like it."""
    tool, privilege = fields.get("tool"), fields.get("privilege")
    return (
        f"malformed script header (tool {tool!r}, privilege {privilege!r}; fleetaudit's "
        f"script names one of {', '.join(t.value for t in Tool)} and "
        f"{' or '.join(p.value for p in Privilege)}): something on the host printed lines "
        "that look like it"
    )


def _port_range(text: str) -> tuple[int, int] | None:
    """``"32768 60999"`` as (32768, 60999); None unless it is two ports, lowest first."""
    words = text.split()
    if len(words) != 2 or not all(w.isascii() and w.isdigit() and len(w) <= 5 for w in words):
        return None
    low, high = int(words[0]), int(words[1])
    return (low, high) if 1 <= low <= high <= 65535 else None


def _connection_ports(text: str) -> tuple[int, int] | None:
    """(server port, client port) of ``$SSH_CONNECTION`` ("client-ip client-port server-ip
    server-port"); None unless it has that shape. sshd started by inetd or as a
    ProxyCommand (``sshd -i``) talks over a pipe: ``UNKNOWN 65535 UNKNOWN 65535``, no
    socket to look for."""
    words = text.split()
    if len(words) != 4 or "UNKNOWN" in (words[0], words[2]):
        return None
    server, client = _port(words[3]), _port(words[1])
    return (server, client) if server and client else None


def _port(word: str) -> int | None:
    """A TCP port number, or None."""
    if not (word.isascii() and word.isdigit() and len(word) <= 5):
        return None
    return int(word) if 0 < int(word) <= 65535 else None


def _unexpected(line: str, line_no: int) -> str:
    return (
        f"unexpected output on line {line_no} before the socket listing: {_shown(line)} "
        f"({_likely_cause(line)})"
    )


def _no_header(stdout: str) -> str:
    """The failure of a reply whose first lines hold no ``@@fleetaudit`` header."""
    first = stdout.split("\n", 1)[0]
    return (
        f"the script's header (@@fleetaudit) was not found within the first "
        f"{_STARTUP_LINES:,} lines ({_STARTUP_BYTES // 1024} KiB) of output; line 1 is "
        f"{_shown(first)} ({_likely_cause(first)})"
    )


def _likely_cause(line: str) -> str:
    if line.endswith("\r"):
        # the script prints LF only: something on the way turned LF into CRLF
        return (
            "CRLF line endings: something between sshd and the script (a forced command, "
            "a wrapper or a pseudo-terminal) rewrites its newlines"
        )
    return "a forced command or a restricted shell?"


def _shown(line: str) -> str:
    return repr(line[:120] + ("..." if len(line) > 120 else ""))
