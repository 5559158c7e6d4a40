"""Saved captures as hosts: judge pasted ``ss``/``netstat``//proc/net output without SSH.

A capture goes through the same pipeline as a live host (the replay transport answers the
collection script with it), so ``fleetaudit check`` and ``fleetaudit run`` can never judge
the same listing differently.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from difflib import get_close_matches
from pathlib import Path
from typing import TYPE_CHECKING

from fleetaudit.errors import CaptureError
from fleetaudit.inventory import validate
from fleetaudit.inventory.model import Host, Inventory
from fleetaudit.lab.replies import RecordedHost
from fleetaudit.model.enums import Tool
from fleetaudit.parse import parse_capture, refuse_a_listing_given_twice
from fleetaudit.parse._stderr_lines import ran_unprivileged
from fleetaudit.parse.interface import capture_text, saved_capture
from fleetaudit.transport import ReplayTransport, Responder

if TYPE_CHECKING:
    from fleetaudit.policy import Policy
    from fleetaudit.policy.selectors import HostSelector

_REPLY_MARK = "@@fleetaudit"
_WIDE_NETSTAT = "netstat -tuanpeW"
"""The command a ``--wide`` netstat capture is said to come from: what the script runs."""
_ROOT_UID = 0
_USER_UID = 1000
_NAME_ENDS = (".", "-", "_")
"""What may follow an inventory host's name at the start of a capture's file name."""


@dataclass(frozen=True, slots=True)
class SavedCapture:
    """One capture file and the host it stands for."""

    host: Host
    responder: Responder


def host_name_of(path: Path, known: Collection[str] = ()) -> str:
    """The host a capture file stands for.

    Without an inventory (``known`` empty): the file name up to its first dot
    (``db1.ss.txt`` -> ``db1``). With one: the longest inventory host name the file name
    starts with, followed by ``.``, ``-`` or ``_`` (``db3.example.com.ss.txt`` ->
    ``db3.example.com``, ``db3-ss.txt`` -> ``db3``), since FQDN names hold dots and pasted
    files get suffixes; the first-dot rule when none does.
    """
    file_name = path.name
    starting = [
        n for n in known if file_name.startswith(n) and file_name[len(n) :][:1] in _NAME_ENDS
    ]
    if starting:
        return max(starting, key=len)
    return file_name.split(".", 1)[0] or file_name


def load_captures(
    paths: Sequence[Path],
    *,
    host: str | None,
    groups: Sequence[str],
    inventory: Inventory | None,
    privileged: bool,
    wide: bool = False,
) -> list[SavedCapture]:
    """Read capture files into hosts. With ``inventory`` every host must be in it (a name
    it lacks is an error, never a host without groups: a typo would silently skip every
    group rule) and brings its groups and labels; without one, hosts get ``groups``.
    ``privileged``: taken as root; ``wide``: netstat captures were taken with ``-W`` (see
    :class:`~fleetaudit.parse.interface.Parser`)."""
    if host is not None and len(paths) != 1:
        raise CaptureError("--host names the host of a single capture; give one file")
    if inventory is not None and groups:
        raise CaptureError("--group and --inventory both give the hosts' groups; use one")
    known = {h.name: h for h in inventory.hosts} if inventory is not None else {}
    captures = []
    for path in paths:
        # an empty --host (an unset variable) is refused as a name, never ignored
        given = host is not None
        name = _checked_name(
            host_name_of(path, known) if host is None else host, path, from_option=given
        )
        if inventory is not None and name not in known:
            raise _not_in_inventory(name, path, inventory, from_option=given)
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
    if str(path) == "-" and not from_option:
        raise CaptureError("a listing read from stdin has no file name to name its host: "
                           "name it with --host", path=path)  # fmt: skip
    try:
        return validate.name(name)
    except ValueError as exc:
        source = "--host" if from_option else "the file name; name the host with --host"
        raise CaptureError(f"{exc} (the host's name comes from {source})", path=path) from None


def _not_in_inventory(
    name: str, path: Path, inventory: Inventory, *, from_option: bool
) -> CaptureError:
    """The error for a capture whose host the inventory lacks: which name, where it came
    from, and the inventory's closest names."""
    if from_option:
        origin = "given with --host"
    else:
        origin = (
            "taken from the file name: no inventory host name starts it followed by "
            "'.', '-' or '_', so the name is the file name up to its first dot"
        )
    message = f"host {name!r} ({origin}) is not in the inventory {inventory.source}"
    close = get_close_matches(name, [h.name for h in inventory.hosts], n=3)
    if close:
        message += " (did you mean " + " or ".join(map(repr, close)) + "?)"
    return CaptureError(message + ("" if from_option else "; name the host with --host"), path=path)


def unnamed_group_warnings(groups: Sequence[str], policy: Policy) -> list[str]:
    """A warning for each ``--group`` that no rule or waiver of ``policy`` names (in
    ``select:`` or its ``not:``), with the groups it does name and the closest of them.

    A warning, not an error: ``--group`` states a fact about the host, and a host may well
    be in a group the policy has no rule for (the same command line serves several
    policies). But a typo (``dbb`` for ``db``) would otherwise skip every rule of that
    group in silence, and the verdict would still look complete."""
    named = sorted(_policy_groups(policy))
    shown = ", ".join(named) if named else "none"
    warnings = []
    for group in dict.fromkeys(groups):  # each once, in the order given
        if group in named:
            continue
        close = get_close_matches(group, named, n=3)
        hint = f" (did you mean {' or '.join(map(repr, close))}?)" if close else ""
        warnings.append(
            f"warning: no rule or waiver of policy {policy.name!r} selects group {group!r}, "
            f"so --group {group} changes nothing{hint}; the groups it names: {shown}"
        )
    return warnings


def _policy_groups(policy: Policy) -> set[str]:
    """Every group the selectors of ``policy``'s rules and waivers name."""
    selectors = [r.select for r in policy.rules] + [w.select for w in policy.waivers]
    return {g for select in selectors for g in _selector_groups(select)}


def _selector_groups(select: HostSelector) -> Iterator[str]:
    yield from select.groups or ()
    if select.not_ is not None:  # "not in db" uses the group db as much as "in db" does
        yield from _selector_groups(select.not_)


def replay_transport(captures: Sequence[SavedCapture]) -> ReplayTransport:
    """A transport that answers each capture's host with it."""
    return ReplayTransport({c.host.name: c.responder for c in captures})


def _responder(path: Path, privileged: bool, wide: bool) -> Responder:
    try:
        text = capture_text(saved_capture(path))
    except OSError as exc:
        raise CaptureError(f"cannot read capture: {exc.strerror}", path=path) from exc
    if text.startswith(_REPLY_MARK):
        # A whole reply of the collection script (as `fleetaudit run` receives it).
        return lambda command: (0, text, "")
    tool = _usable_listing(text, path, privileged, wide)
    if privileged and tool is Tool.NETSTAT and ran_unprivileged(text):
        # netstat's own word that it ran without root: judged so, whatever --privileged says
        privileged = False
    uid = _ROOT_UID if privileged else _USER_UID
    command = _WIDE_NETSTAT if wide and tool is Tool.NETSTAT else None
    return RecordedHost(tool, text, login_uid=uid, sudo_allowed=False, command=command).reply


_PREVIEW_BYTES = 64 * 1024
"""How much of a long capture is parsed to see that it is a usable listing."""


def _usable_listing(text: str, path: Path, privileged: bool, wide: bool) -> Tool:
    """The tool that printed a saved listing, checked now, not only when judged: a capture
    that is no usable listing (no socket, only unix sockets, no line readable) is refused
    here, like an empty file. Only its first ``_PREVIEW_BYTES`` are parsed when they hold
    a socket or an unreadable line, so that a 200,000-line listing is parsed once in full
    (when judged), not twice; otherwise the whole text decides."""
    source = str(path)
    cut = text.find("\n", _PREVIEW_BYTES)
    if cut >= 0:
        refuse_a_listing_given_twice(text, source)  # a property of the whole text
        try:
            tool, start = parse_capture(
                text[: cut + 1], privileged=privileged, wide=wide, source=source
            )
        except CaptureError:
            pass  # the whole text decides: its start may be junk before the listing
        else:
            if start.sockets or start.errors:
                return tool
    tool, result = parse_capture(text, privileged=privileged, wide=wide, source=source)
    if not (result.sockets or result.errors):
        # A live host audited over SSH always has some (sshd's at least): a saved listing
        # with none is cut or filtered, never "this host has no sockets".
        raise CaptureError(
            f"no socket in the listing, only {tool.value}'s header: take the whole output of "
            "ss -tuanpe",
            path=path,
        )
    return tool
