"""A listing pasted twice into a ticket is refused, not read with every socket counted twice
(state-count thresholds crossed, findings doubled). Two different listings one after the
other, and identical data lines within one listing, are still read."""

from __future__ import annotations

from pathlib import Path

import pytest

from fleetaudit.errors import CaptureError
from fleetaudit.parse import parse_capture
from tests.captures import CAPTURES, UNREADABLE, read_capture
from tests.runcli import fleetaudit

HEADER_WORDS = {"Netid", "State", "Recv-Q", "Active", "Proto", "sl"}
RECORDED = sorted(
    path
    for path in CAPTURES.glob("*.txt")
    if path.stem not in UNREADABLE and read_capture(path).split()[0] in HEADER_WORDS
)
"""Every recorded capture with a header (one taken with ss -H cannot tell a second copy)."""


@pytest.mark.parametrize("capture", RECORDED, ids=[p.stem for p in RECORDED])
@pytest.mark.parametrize("between", ["", "\n", "\n\n"], ids=["joined", "blank", "two-blank"])
def test_every_recorded_capture_pasted_twice_is_refused(capture: Path, between: str) -> None:
    text = read_capture(capture)
    lines = len(text.rstrip().splitlines())
    with pytest.raises(CaptureError, match=rf"one listing twice \(lines 1-{lines} again"):
        parse_capture(text + between + text, privileged=True)


def test_most_recorded_captures_have_a_header() -> None:
    assert len(RECORDED) >= 30


def test_two_different_listings_in_a_row_are_one_listing() -> None:
    header = "State Recv-Q Send-Q Local Address:Port Peer Address:Port\n"
    tcp = header + "LISTEN 0 128 0.0.0.0:22 0.0.0.0:*\n"
    udp = header + "UNCONN 0 0 0.0.0.0:53 0.0.0.0:*\n"
    _, result = parse_capture(tcp + udp)
    assert [raw.local_port for raw in result.sockets] == [22, 53]


def test_identical_sockets_of_a_headerless_listing_are_sockets() -> None:
    # ss -Huan: one UDP socket per thread on port 53 (SO_REUSEPORT), no process column
    line = "udp UNCONN 0 0 0.0.0.0:53 0.0.0.0:*\n"
    _, result = parse_capture(line * 4)
    assert len(result.sockets) == 4


def test_check_says_so_and_exits_2(tmp_path: Path) -> None:
    text = read_capture(CAPTURES / "ss-tuanpe-root.txt")
    doubled = tmp_path / "db1.ss.txt"
    doubled.write_text(text + text)
    done = fleetaudit("check", doubled, "--privileged", state=tmp_path)
    assert done.returncode == 2
    assert "one listing twice" in done.stderr and "keep one copy" in done.stderr
