"""Saved captures as hosts: judge pasted ``ss``/``netstat``//proc/net output without SSH.

A capture goes through the same pipeline as a live host (the replay transport answers the
collection script with it), so ``fleetaudit check`` and ``fleetaudit run`` can never judge
the same listing differently.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from fleetaudit.errors import CaptureError
from fleetaudit.inventory import validate
from fleetaudit.inventory.model import Host, Inventory
from fleetaudit.lab.replies import RecordedHost
from fleetaudit.model.enums import Tool
from fleetaudit.parse import detect_tool
from fleetaudit.transport import ReplayTransport, Responder

_REPLY_MARK = "@@fleetaudit"
_WIDE_NETSTAT = "netstat -tuanpeW"
"""The command a ``--wide`` netstat capture is said to come from: what the script runs."""
_ROOT_UID = 0
_USER_UID = 1000


@dataclass(frozen=True, slots=True)
class SavedCapture:
    """One capture file and the host it stands for."""

    host: Host
    responder: Responder


def host_name_of(path: Path) -> str:
    """``db1.ss.txt`` -> ``db1``: the file name up to its first dot."""
    return path.name.split(".", 1)[0] or path.name


def load_captures(
    paths: Sequence[Path],
    *,
    host: str | None,
    groups: Sequence[str],
    inventory: Inventory | None,
    privileged: bool,
    wide: bool = False,
) -> list[SavedCapture]:
    """Read capture files into hosts; groups and labels come from ``inventory`` when the
    host is in it, else from ``groups``. ``privileged``: taken as root; ``wide``: netstat
    captures were taken with ``-W`` (see :class:`~fleetaudit.parse.interface.Parser`)."""
    if host is not None and len(paths) != 1:
        raise CaptureError("--host names the host of a single capture; give one file")
    known = {h.name: h for h in inventory.hosts} if inventory is not None else {}
    captures = []
    for path in paths:
        name = _checked_name(host or host_name_of(path), path, from_option=host is not None)
        entry = known.get(name) or Host(name=name, address=name, groups=tuple(groups))
        captures.append(SavedCapture(entry, _responder(path, privileged, wide)))
    names = [c.host.name for c in captures]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise CaptureError(f"several captures for host(s) {', '.join(duplicates)}; use one each")
    return captures


def _checked_name(name: str, path: Path, *, from_option: bool) -> str:
    """``name`` if it is a host name an inventory would accept: reports, history and
    fingerprints carry it, so ``$(id).txt`` or ``-oFoo.txt`` must not become a host."""
    try:
        return validate.name(name)
    except ValueError as exc:
        source = "--host" if from_option else "the file name; name the host with --host"
        raise CaptureError(f"{exc} (the host's name comes from {source})", path=path) from None


def replay_transport(captures: Sequence[SavedCapture]) -> ReplayTransport:
    """A transport that answers each capture's host with it."""
    return ReplayTransport({c.host.name: c.responder for c in captures})


def _responder(path: Path, privileged: bool, wide: bool) -> Responder:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise CaptureError(f"cannot read capture: {exc.strerror}", path=path) from exc
    if text.startswith(_REPLY_MARK):
        # A whole reply of the collection script (as `fleetaudit run` receives it).
        return lambda command: (0, text, "")
    tool = detect_tool(text, source=str(path))
    uid = _ROOT_UID if privileged else _USER_UID
    command = _WIDE_NETSTAT if wide and tool is Tool.NETSTAT else None
    return RecordedHost(tool, text, login_uid=uid, sudo_allowed=False, command=command).reply
