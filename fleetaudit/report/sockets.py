"""Render a bare socket list (``fleetaudit parse``): the public socket JSON schema."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence

from tabulate import tabulate

from fleetaudit.gcpause import collector_paused
from fleetaudit.model.socket import RawSocket, Socket, socket_record
from fleetaudit.report.escape import terminal_safe

_CHUNK = 4096


def render_sockets(raws: Sequence[RawSocket], fmt: str) -> Iterator[str]:
    """The listing as text pieces: ``json``, a JSON array of socket objects, one per line;
    ``table``, one row per socket. JSON comes in chunks, so a 200,000-socket listing never
    holds all its objects, or all its output, in memory at once."""
    if fmt == "json":
        yield from _json_pieces(raws)
        return
    yield _table(raws)


def _json_pieces(raws: Sequence[RawSocket]) -> Iterator[str]:
    separator = "[\n "
    for start in range(0, len(raws), _CHUNK):
        # One call into json's C encoder per chunk (per-object calls cost more than the
        # parse). '}, {"proto": ' occurs only between objects: inside a string every '"'
        # is escaped.
        with collector_paused():
            records = [socket_record(raw) for raw in raws[start : start + _CHUNK]]
            body = json.dumps(records, ensure_ascii=False)[1:-1]
        yield separator + body.replace('}, {"proto": ', '},\n {"proto": ')
        separator = ",\n "
    yield "[]\n" if separator.startswith("[") else "\n]\n"


def _table(raws: Sequence[RawSocket]) -> str:
    sockets = [Socket.from_raw(raw) for raw in raws]
    rows = [
        (
            s.proto.value,
            s.state.value,
            s.recv_q,
            s.send_q,
            terminal_safe(s.endpoint),
            s.bind_scope.value,
            terminal_safe(s.owner_label),
        )
        for s in sockets
    ]
    headers = ("proto", "state", "recv-q", "send-q", "local", "scope", "process")
    return tabulate(rows, headers=headers, tablefmt="simple", disable_numparse=True) + "\n"
