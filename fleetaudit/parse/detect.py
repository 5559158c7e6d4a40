"""Recognise which tool printed a capture, and refuse text that is not a socket table.

An empty success on a routing table or an error message would read as "this host listens
on nothing": the one wrong answer an audit must never give. So detection looks for positive
evidence (a header, or a first data line of a known shape) and raises otherwise.
"""

from __future__ import annotations

from fleetaudit.errors import CaptureError
from fleetaudit.model.enums import Tool
from fleetaudit.parse import _ss_common as ss
from fleetaudit.parse import netstat, proc_net
from fleetaudit.parse._stderr_lines import is_netstat_notice, is_ss_warning
from fleetaudit.parse.interface import first_lines

_NOT_SOCKETS = {
    "Kernel IP routing table": "a routing table (netstat -r)",
    "Kernel Interface table": "an interface table (netstat -i)",
    "Destination ": "a routing table",
    "Iface ": "an interface table (netstat -i)",
}
_SCAN_LINES = 20


def detect_tool(text: str, *, source: str = "<capture>") -> Tool:
    """The tool that printed ``text``; :class:`CaptureError` when it is not a socket table."""
    numbered = [
        (number, line)
        for number, line in enumerate(first_lines(text, 200), start=1)
        if line.strip() and not _tool_warning(line)
    ][:_SCAN_LINES]
    if not numbered:
        raise CaptureError("empty capture: no socket table to read", path=source)
    for number, line in numbered:
        for prefix, what in _NOT_SOCKETS.items():
            if line.startswith(prefix):
                raise CaptureError(
                    f"this is {what}, not a socket listing", path=source, line=number
                )
        tool = _classify(line)
        if tool is not None:
            return tool
    number, first = numbered[0]
    raise CaptureError(
        f"not ss, netstat or /proc/net output (first line: {first[:80]!r})",
        path=source,
        line=number,
    )


def _tool_warning(line: str) -> bool:
    """A line ss or netstat writes on stderr, mixed into the capture: no evidence either
    way (ss writes one per socket when it cannot find the cgroup2 mount)."""
    return is_ss_warning(line) or is_netstat_notice(line)


def _classify(line: str) -> Tool | None:
    stripped = line.strip()
    parts = stripped.split()
    if stripped.startswith(proc_net.MARKER_PREFIX) or (
        parts[0] == "sl" and "local_address" in parts
    ):
        return Tool.PROC
    if parts[0] == "Proto" and "Recv-Q" in parts:
        return Tool.NETSTAT
    if parts[0] in ss.HEADER_STARTS and "Recv-Q" in parts:
        return Tool.SS
    if line.startswith("Active Internet connections"):
        return Tool.NETSTAT
    return _classify_data_line(parts)


def _classify_data_line(parts: list[str]) -> Tool | None:
    """A headerless line (``ss -H``, or a pasted fragment)."""
    if len(parts) < 4:
        return None
    first, second = parts[0], parts[1]
    if first.isdecimal() and second.isdecimal() and ":" in parts[2]:
        return Tool.SS  # neither Netid nor State: the ss reader says why it cannot be read
    if len(parts) < 5:
        return None
    if first in ss.STATES and second.isdigit():
        return Tool.SS
    if first in ss.NETIDS or first in ss.OTHER_NETIDS:
        if second in ss.STATES:
            return Tool.SS
    if first in netstat.PROTOS and second.isdigit() and parts[2].isdigit():
        return Tool.SS if _stateless_ss(parts) else Tool.NETSTAT
    return None


_SS_EXTRAS = (ss.USERS, "ino:", "uid:", "sk:", "cgroup:", "v6only:")


def _stateless_ss(parts: list[str]) -> bool:
    """Whether a ``proto recv-q send-q local peer ...`` line is ss without its State column
    (a one-state filter) rather than netstat: it carries ss's extras, or it is a line netstat
    never prints: a TCP socket without a state, or a UDP socket with a peer but without
    netstat's ESTABLISHED."""
    if any(part.startswith(_SS_EXTRAS) for part in parts[5:]):
        return True
    return len(parts) == 5 and (parts[0].startswith("tcp") or not parts[4].endswith(":*"))
