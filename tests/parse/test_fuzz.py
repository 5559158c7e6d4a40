"""Hostile input: no text makes a parser crash or hang, and every error names its line.

``FLEETAUDIT_FUZZ_EXAMPLES`` sets the number of examples (CI uses the default; the slow run
uses 10,000 or more).
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fleetaudit.errors import CaptureError
from fleetaudit.model.enums import Tool
from fleetaudit.model.socket import Socket
from fleetaudit.parse import PARSERS, parse_capture

EXAMPLES = int(os.environ.get("FLEETAUDIT_FUZZ_EXAMPLES", "300"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])

REAL_LINES = [
    "Netid State  Recv-Q Send-Q Local Address:Port Peer Address:PortProcess",
    "tcp   LISTEN 0      4096   127.0.0.53%lo:53   0.0.0.0:*    "
    'users:(("systemd-resolve",pid=1,fd=14)) uid:101 ino:1 sk:2 <->',
    "udp   UNCONN 0      0      [fe80::1]%eth0:123 [::]:* v6only:1",
    "tcp   ESTAB  0      0      [::ffff:127.0.0.1]:9000 [::ffff:127.0.0.1]:41000",
    "Proto Recv-Q Send-Q Local Address Foreign Address State User Inode PID/Program name",
    "tcp        0      0 0.0.0.0:22   0.0.0.0:*   LISTEN   0  11021  921/sshd: x",
    "udp6       0      0 :::5353      :::*                 0  1  442/avahi-daemon: r",
    "==> /proc/net/tcp6 <==",
    "   0: 00000000000000000000000001000000:0016 00000000000000000000000000000000:0000 0A "
    "00000000:00000000 00:00000000 00000000 0 0 1",
]
TOKENS = st.sampled_from(
    ["tcp", "udp", "LISTEN", "ESTAB", "0", "128", "*:*", "[::]:*", "0.0.0.0:22", ":::22",
     'users:(("a",pid=1,fd=2))', 'users:((")', "ino:", "v6only:9", "%", "[", "]", ":", "-",
     "1/x", "\t", " ", "\x00", "\x1b[31m", "é", "99999999999999999999"]
)  # fmt: skip


@st.composite
def mutated_capture(draw: st.DrawFn) -> str:
    lines = draw(st.lists(st.sampled_from(REAL_LINES), min_size=1, max_size=8))
    out = []
    for line in lines:
        cut = draw(st.integers(0, len(line)))
        noise = "".join(draw(st.lists(TOKENS, max_size=4)))
        out.append(line[:cut] + noise + line[cut:] if draw(st.booleans()) else line)
    return "\n".join(out)


def _check(text: str, tool: Tool | None) -> None:
    try:
        _, result = parse_capture(text, tool=tool)
    except CaptureError as exc:
        assert exc.message
        return
    line_count = len(text.splitlines())
    for error in result.errors:
        assert 1 <= error.line <= line_count
    for raw in result.sockets:
        Socket.from_raw(raw)  # every record becomes a valid model


@FUZZ
@given(st.one_of(mutated_capture(), st.text(max_size=400)), st.sampled_from([None, *Tool]))
def test_no_text_crashes_any_parser(text: str, tool: Tool | None) -> None:
    _check(text, tool)


@FUZZ
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=2000))
def test_dialect_parsers_never_raise_on_arbitrary_text(text: str) -> None:
    for parser in PARSERS.values():
        result = parser(text, privileged=True)
        assert all(e.line >= 1 for e in result.errors)
