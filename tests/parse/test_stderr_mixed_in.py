"""A capture whose tool's stderr was mixed in: taken with ``2>&1``, or over SSH from a login
shell whose startup file runs ``exec 2>&1``. ss writes "Failed to find cgroup2 mount" once
per socket under ``-e`` where it cannot find the cgroup2 mount (many containers and network
namespaces; QA saw 152 such lines ahead of the table, and the whole capture was refused as
"not ss output"); netstat run without root writes its "(Not all processes could be
identified...)" notice (QA: two line errors). These lines hold no socket: the sockets read
are those of the same capture without them."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from fleetaudit.model.enums import Tool
from fleetaudit.model.raw import RawSocket
from fleetaudit.parse import parse_capture
from tests.runcli import fleetaudit

CAPTURES = Path(__file__).parent.parent / "fixtures" / "captures"
CGROUP = "Failed to find cgroup2 mount\n"
NETSTAT_NOTICE = (
    "(Not all processes could be identified, non-owned process info\n"
    " will not be shown, you would have to be root to see it all.)\n"
)


def _read(name: str) -> str:
    return (CAPTURES / name).read_text()


def _unnumbered(sockets: Iterable[RawSocket]) -> list[RawSocket]:
    """The sockets without their line numbers, which the mixed-in lines move."""
    return [s._replace(line=0) for s in sockets]


def test_ss_cgroup_warnings_ahead_of_and_among_the_lines_are_skipped() -> None:
    clean = _read("nt-ss-tuanpe-root.txt")
    lines = clean.splitlines(keepends=True)
    mixed = CGROUP * 30 + "".join(line + CGROUP for line in lines)
    mixed += "Failed to open cgroup2 by ID\n"
    tool, result = parse_capture(mixed, privileged=True)
    assert tool is Tool.SS
    assert result.errors == ()
    assert _unnumbered(result.sockets) == _unnumbered(
        parse_capture(clean, privileged=True)[1].sockets
    )
    assert result.sockets, "the fixture has sockets"


def test_netstat_notices_are_skipped() -> None:
    clean = _read("netstat-tunap-user.txt")
    tool, result = parse_capture(NETSTAT_NOTICE + clean)
    assert tool is Tool.NETSTAT
    assert result.errors == ()
    assert _unnumbered(result.sockets) == _unnumbered(parse_capture(clean)[1].sockets)


def test_a_capture_with_netstats_notice_was_not_taken_as_root() -> None:
    """The notice is netstat's word that it ran without root: a socket it shows without a
    process is then one whose owner is unknown, not one that has none, even when the
    caller says the capture was root's."""
    clean = _read("nt-nettools-tuanpe-root.txt")
    as_root = parse_capture(clean, privileged=True)[1].sockets
    without = [s for s in as_root if not s.processes]
    assert without and all(s.owner_known for s in without), "root's: no process means none"
    noticed = parse_capture(NETSTAT_NOTICE + clean, privileged=True)[1].sockets
    unowned = [s._replace(owner_known=False) for s in without]
    assert _unnumbered(s for s in noticed if not s.processes) == _unnumbered(unowned)


def test_check_judges_a_netstat_capture_with_the_notice_as_not_roots(tmp_path: Path) -> None:
    """QA: `check --privileged` of such a capture read its sockets as owner unknown, but
    still said the host was audited as root, and its coverage finding blamed netstat."""
    capture = tmp_path / "h5.txt"
    capture.write_text(NETSTAT_NOTICE + _read("nt-nettools-tuanpe-root.txt"))
    report = tmp_path / "r.json"
    done = fleetaudit("check", capture, "--privileged", "-o", f"json={report}")
    assert done.returncode in (0, 1), done.stderr
    [host] = json.loads(report.read_text())["hosts"]
    assert host["privilege"] == "unprivileged"
