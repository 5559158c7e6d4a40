"""The full text of per-host messages, for the table report's HOST DETAILS block.

The HOSTS table keeps its detail cells short so that a thousand-host run stays readable,
but the end of a message is often what the operator must act on (the fingerprint a server
offered and "Verify it and fix the entry" come last in a HOST KEY CHANGED message). So every
host not audited, and every audited host whose note did not fit its cell, gets its full
message here, wrapped and numbered; the cell that was cut points at its entry.

Hosts whose messages differ only by their own address (800 hosts timing out, each message
naming its ``user@address:port``) share one entry: the first host's message, the count and
the first few names. The block is bounded; what it leaves out is in the JSON report.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from fleetaudit.model.enums import HostStatus, Tool
from fleetaudit.model.host import HostSnapshot
from fleetaudit.report.escape import terminal_safe as safe
from fleetaudit.report.summary import first_names
from fleetaudit.report.wrap import wrap

DETAIL_CELL = 72
"""Longest detail cell in the HOSTS table; longer messages are cut and sent here."""
MAX_ENTRIES = 50
"""Entries shown at most: beyond that the block would bury the rest of the report."""
MAX_NAMES = 5
"""Host names listed for an entry that many hosts share."""
MAX_TEXT = 2000
"""Characters of one message shown at most (a hostile server chooses some of the text)."""
_INDENT = "    "


def tool_limits(snapshot: HostSnapshot) -> str | None:
    """What a host's listing could not show, by the tool that took it: a process sharing a
    listener with the one netstat names, and accept queues short of the backlog threshold
    (``min_queue``), go unjudged there, where ss would show them. A listing that names no
    process at all (no ``-p``, /proc/net) says so in its privilege note."""
    if snapshot.tool is Tool.PROC:
        return "no backlog limits"
    if snapshot.tool is not Tool.NETSTAT:
        return None
    if any(socket.processes for socket in snapshot.sockets):
        return "no ss: netstat shows one process per socket, no backlog limits"
    return "no ss: netstat shows no backlog limits"


def detail(snapshot: HostSnapshot) -> str:
    """A host's detail cell: its error, or the notes on how far its audit could see."""
    if snapshot.error:
        return snapshot.error
    notes = []
    if snapshot.parse_errors:
        first = snapshot.parse_errors[0]
        notes.append(
            f"{len(snapshot.parse_errors)} unparsed line(s), first at line {first.line}: "
            f"{first.reason}"
        )
    if snapshot.privilege_note:
        notes.append(snapshot.privilege_note)
    if limits := tool_limits(snapshot):
        notes.append(limits)
    return "; ".join(notes)


@dataclass
class _Entry:
    """One message and the hosts that reported it (the first one's text is shown)."""

    status: HostStatus
    text: str
    hosts: list[str] = field(default_factory=list)
    varies: bool = False
    """Whether some host's text differs from ``text`` (by naming its own address)."""


@dataclass
class HostDetails:
    """The entries of a run, and each listed host's entry number (1-based) or None when
    the entry fell beyond :data:`MAX_ENTRIES`."""

    entries: list[_Entry]
    number: dict[int, int | None]
    """Keyed by the snapshot's position in the run."""

    def cell(self, position: int, text: str) -> str:
        """The escaped detail cell of the host at ``position``: whole when it fits, else
        cut with a pointer to where the rest is."""
        shown = safe(text)
        if len(shown) <= DETAIL_CELL:
            return shown
        number = self.number.get(position)
        pointer = f"[{number}]" if number is not None else "[in JSON]"
        return shown[: DETAIL_CELL - len(pointer) - 4].rstrip() + "... " + pointer


def collect(snapshots: tuple[HostSnapshot, ...], details: list[str]) -> HostDetails:
    """The entries for ``snapshots``, whose detail texts are ``details`` (same order):
    hosts not audited, and audited hosts whose text is longer than a cell."""
    entries: list[_Entry] = []
    by_key: dict[tuple[HostStatus, str], int] = {}
    number: dict[int, int | None] = {}
    for position, (snapshot, text) in enumerate(zip(snapshots, details, strict=True)):
        failed = snapshot.status is not HostStatus.OK
        if not text or not (failed or len(safe(text)) > DETAIL_CELL):
            continue
        key = (snapshot.status, _template(text, snapshot.address))
        index = by_key.setdefault(key, len(entries))
        if index == len(entries):
            entries.append(_Entry(snapshot.status, text))
        entries[index].hosts.append(snapshot.host)
        entries[index].varies |= text != entries[index].text
        number[position] = index + 1 if index < MAX_ENTRIES else None
    return HostDetails(entries, number)


def _template(text: str, address: str) -> str:
    """``text`` with the host's own address replaced, so that hosts failing the same way
    share an entry. Only whole occurrences count (``10.0.0.1`` not inside ``10.0.0.10``)."""
    if not address:
        return text
    whole = re.compile(rf"(?<![\w.-]){re.escape(address)}(?![\w-]|\.\w)")
    return whole.sub("\x00", text)


def render(details: HostDetails, width: int) -> str:
    """The HOST DETAILS block, or "" when no host needs one."""
    if not details.entries:
        return ""
    shown = details.entries[:MAX_ENTRIES]
    blocks = [_entry(n, entry, width) for n, entry in enumerate(shown, start=1)]
    rest = details.entries[MAX_ENTRIES:]
    if rest:
        hosts = sum(len(entry.hosts) for entry in rest)
        blocks.append(
            f"... and {len(rest)} more message(s) from {hosts} host(s), not shown here: "
            "the JSON report (--format json) has every host's full message."
        )
    title = "HOST DETAILS (hosts not audited, and notes cut above: full text)"
    return title + "\n" + "\n".join(blocks)


def _entry(number: int, entry: _Entry, width: int) -> str:
    """``[n] host (status)`` or ``[n] 800 hosts (status): a, b, ... and 795 more``, then
    the message wrapped and indented. Long words (paths, fingerprints) are never split, so
    they can be copied whole."""
    names = [safe(name) for name in entry.hosts]
    if len(names) == 1:
        head = f"[{number}] {names[0]} ({entry.status.value})"
    else:
        listed = first_names(names, MAX_NAMES)
        head = f"[{number}] {len(names)} hosts ({entry.status.value}): {listed}"
    lines = [head, *_wrap(_bounded(entry.text), width)]
    if entry.varies:
        lines += _wrap(f"(as {names[0]} said it; the others name their own address)", width)
    return "\n".join(lines)


def _bounded(text: str) -> str:
    shown = safe(text)
    if len(shown) <= MAX_TEXT:
        return shown
    return shown[:MAX_TEXT] + f"... (cut at {MAX_TEXT} characters; the JSON report has it all)"


def _wrap(text: str, width: int) -> list[str]:
    return wrap(
        text,
        width=max(width, 40),
        initial_indent=_INDENT,
        subsequent_indent=_INDENT,
        break_long_words=False,
        break_on_hyphens=False,
    )
