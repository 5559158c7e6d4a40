"""The ss fast path must agree with the exact reader on every line it takes."""

from __future__ import annotations

import os
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fleetaudit.parse import ss
from fleetaudit.parse._ss_common import Capture
from fleetaudit.parse._ss_fast import read_fast
from tests.captures import read_capture

FIXTURES = Path(__file__).parents[1] / "fixtures"
EXAMPLES = int(os.environ.get("FLEETAUDIT_FUZZ_EXAMPLES", "300"))


def exact(line: str, capture: Capture) -> object:
    return ss._parse_line(line, line.split(), 1, capture)


def agree(text: str, privileged: bool) -> int:
    capture = Capture(text, privileged)
    taken = 0
    for line in text.splitlines():
        fast = read_fast(line, 1, capture)
        if fast is not None:
            taken += 1
            assert fast == exact(line, capture), line
    return taken


def test_fast_path_agrees_on_every_real_line() -> None:
    # every ss listing: ss-*, and the ss ones of the service, option, title... sets
    captures = [*FIXTURES.glob("captures/*ss-*.txt"), *FIXTURES.glob("corpus/*/ss-*.out")]
    taken = sum(
        agree(read_capture(path), privileged) for path in captures for privileged in (True, False)
    )
    assert taken > 600  # the fast path really is the common path


PIECES = st.sampled_from(
    ["tcp", "udp", " ", "\t", "LISTEN", "ESTAB", "UNCONN", "TIME-WAIT", "0", "128", "65536",
     "[::]", "[::ffff:127.0.0.1]", "0.0.0.0", "*", "%lo", "%", ":", "22", "*", "99999",
     'users:(("a b",pid=1,fd=2))', 'users:(("x",1,2))', '),("', "ino:5", "uid:7",
     "v6only:1", "v6only:0", "<->", "sk:1", "\"", ")"]
)  # fmt: skip


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(PIECES, min_size=4, max_size=16).map("".join), st.booleans(), st.booleans())
def test_fast_path_agrees_on_fuzzed_lines(line: str, privileged: bool, new_style: bool) -> None:
    context = "tcp LISTEN 0 1 0.0.0.0:1 0.0.0.0:*\n" if new_style else ""
    capture = Capture(context + line, privileged)
    fast = read_fast(line, 1, capture)
    if fast is not None:
        assert fast == exact(line, capture)


@settings(max_examples=EXAMPLES, deadline=None)
@given(
    st.sampled_from(["tcp", "udp"]),
    st.sampled_from(["LISTEN", "ESTAB", "UNCONN", "CLOSE-WAIT"]),
    st.integers(0, 10**6),
    st.sampled_from(["0.0.0.0", "127.0.0.1", "[::]", "[::1]", "[fe80::1]", "*"]),
    st.sampled_from(["", "%lo", "%eth0"]),
    st.one_of(st.just("*"), st.integers(0, 70000).map(str)),
    st.sampled_from(["", " ", 'users:(("n",pid=3,fd=4))', " ino:9 sk:2 <->", " v6only:0"]),
)
def test_fast_path_agrees_on_well_formed_lines(
    netid: str, state: str, queue: int, address: str, scope: str, port: str, rest: str
) -> None:
    line = f"{netid} {state} {queue} 4096 {address}{scope}:{port} {address}:{port}{rest}"
    capture = Capture(line, True)
    fast = read_fast(line, 1, capture)
    if fast is not None:
        assert fast == exact(line, capture)


def test_a_port_out_of_range_is_a_line_error_not_a_socket() -> None:
    text = (
        "Netid State Recv-Q Send-Q Local Address:Port Peer Address:Port Process\n"
        "tcp LISTEN 0 128 0.0.0.0:65535 0.0.0.0:*\n"
        "tcp ESTAB 0 0 10.0.0.1:22 10.0.0.2:65536\n"
        "tcp ESTAB 0 0 10.0.0.1:9 10.0.0.2:09999\n"
    )
    result = ss.parse(text)
    assert [(s.local_port, s.peer_port) for s in result.sockets] == [(65535, None), (9, 9999)]
    assert [(e.line, "65536" in e.reason) for e in result.errors] == [(3, True)]
