"""The ``fleetaudit parse`` JSON writer gives exactly what json.dumps gives for the public
socket record: on every capture fixture, and on records holding any text at all."""

from __future__ import annotations

import json
import os
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from fleetaudit.model.enums import Family, Proto, SocketState, Tool
from fleetaudit.model.raw import RawProcess, RawSocket, socket_record
from fleetaudit.parse import parse_capture
from fleetaudit.report.socket_json import json_array
from tests.captures import CAPTURES, UNREADABLE, read_capture

FIXTURES = Path(__file__).parents[1] / "fixtures"
EXAMPLES = int(os.environ.get("FLEETAUDIT_FUZZ_EXAMPLES", "300"))


def reference(raws: list[RawSocket]) -> str:
    """The same layout built the slow, obviously right way."""
    if not raws:
        return "[]\n"
    objects = [json.dumps(socket_record(raw), ensure_ascii=False) for raw in raws]
    return "[\n " + ",\n ".join(objects) + "\n]\n"


def test_every_capture_fixture_is_written_as_json_dumps_would() -> None:
    manifest = json.loads((FIXTURES / "corpus" / "manifest.json").read_text())["fixtures"]
    paths = [
        *(path for path in CAPTURES.glob("*.txt") if path.stem not in UNREADABLE),
        *(FIXTURES / "corpus" / f["file"] for f in manifest if f["content"] == "sockets"),
    ]
    written = 0
    for path in paths:
        # wide: every line read, also the corpus's netstat lines whose names were cut
        capture = read_capture(path)
        _, result = parse_capture(capture, privileged=True, wide=True, source=str(path))
        raws = list(result.sockets)
        text = "".join(json_array(raws))
        assert text == reference(raws), path
        assert json.loads(text) == json.loads(reference(raws))
        written += len(raws)
    assert written > 500


def test_more_sockets_than_one_chunk_stay_one_array() -> None:
    raw = RawSocket(
        Tool.SS, Proto.TCP, Family.IPV4, SocketState.LISTEN, 0, 128, "0.0.0.0", 22, None,
        "0.0.0.0", None, (RawProcess("sshd", 1, 3),), True,
    )  # fmt: skip
    raws = [raw._replace(local_port=port) for port in range(1, 10_001)]
    parsed = json.loads("".join(json_array(raws)))
    assert [record["local_port"] for record in parsed] == list(range(1, 10_001))


def test_no_sockets_is_an_empty_array() -> None:
    assert "".join(json_array([])) == "[]\n"


optional_int = st.none() | st.integers(0, 2**40)
optional_text = st.none() | st.text(max_size=12)


@settings(max_examples=EXAMPLES, deadline=None)
@given(
    st.sampled_from(list(Tool)),
    st.sampled_from(list(Proto)),
    st.sampled_from(list(Family)),
    st.sampled_from(list(SocketState)),
    st.tuples(st.integers(0, 2**32), st.integers(0, 2**32)),
    st.sampled_from(["0.0.0.0", "::", "127.0.0.1", "fe80::1", "10.0.0.1"]) | st.text(max_size=12),
    st.tuples(optional_int, optional_text, optional_text, optional_int),
    st.lists(st.tuples(st.text(max_size=20), optional_int, optional_int), max_size=3),
    st.tuples(st.booleans(), optional_int, optional_int, st.none() | st.booleans()),
)
def test_any_record_is_written_as_json_dumps_would(
    tool: Tool,
    proto: Proto,
    family: Family,
    state: SocketState,
    queues: tuple[int, int],
    local: str,
    ends: tuple[int | None, str | None, str | None, int | None],
    processes: list[tuple[str, int | None, int | None]],
    owner: tuple[bool, int | None, int | None, bool | None],
) -> None:
    local_port, interface, peer, peer_port = ends
    owner_known, uid, inode, v6only = owner
    raw = RawSocket(
        tool, proto, family, state, *queues, local, local_port, interface, peer, peer_port,
        tuple(RawProcess(*p) for p in processes), owner_known, uid, inode, v6only, 7,
    )  # fmt: skip
    assert "".join(json_array([raw])) == reference([raw])
