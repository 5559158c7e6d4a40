"""The listener column of the human reports and of diff names the protocol: memcached on
TCP and on UDP port 11211 are two findings, and read as the same row twice without it
(QA, in the morning diff of a nightly run)."""

from __future__ import annotations

from fleetaudit.history import diff_runs
from fleetaudit.history.render import render_diff
from fleetaudit.model.enums import Proto, SocketState
from fleetaudit.report import DiffFormat, OutputFormat
from tests.factories import finding, run_result, snapshot, sock

TCP = sock("0.0.0.0", 11211, "memcached")
UDP = sock("0.0.0.0", 11211, "memcached", proto=Proto.UDP, state=SocketState.UNCONN)


def test_human_reports_tell_a_tcp_finding_from_a_udp_one_on_the_same_port() -> None:
    run = run_result((snapshot("c1", TCP, UDP),), (finding("c1", TCP), finding("c1", UDP)))
    for fmt in (OutputFormat.MARKDOWN, OutputFormat.HTML):
        text = fmt.formatter().render(run).replace("\\", "")  # Markdown escapes the dots
        assert "tcp/0.0.0.0:11211" in text and "udp/0.0.0.0:11211" in text, fmt
    # the table's findings have a protocol column of their own
    rows = [r.split() for r in OutputFormat.TABLE.formatter().render(run).splitlines()]
    found = {row[4] for row in rows if len(row) > 4 and row[3] == "0.0.0.0:11211"}
    assert found == {"tcp", "udp"}, rows
    before = run_result((snapshot("c1", TCP, UDP),), (), run_id="a")
    changes = diff_runs(before, run)
    for diff_format in (DiffFormat.TABLE, DiffFormat.MARKDOWN):
        text = render_diff(changes, diff_format).replace("\\", "")
        assert "tcp/0.0.0.0:11211" in text and "udp/0.0.0.0:11211" in text, diff_format
