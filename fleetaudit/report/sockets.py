"""Render a bare socket list (``fleetaudit parse``): the public socket JSON schema."""

from __future__ import annotations

import json
from collections.abc import Sequence

from tabulate import tabulate

from fleetaudit.gcpause import collector_paused
from fleetaudit.model.socket import RawSocket, Socket, socket_record
from fleetaudit.report.escape import terminal_safe


def render_sockets(raws: Sequence[RawSocket], fmt: str) -> str:
    """``json``: a JSON array of socket objects; ``table``: one row per socket."""
    if fmt == "json":
        # One call into json's C encoder for the whole list (per-object calls cost more than
        # the parse); then one object per line. '}, {"proto": ' occurs only between objects:
        # inside a string every '"' is escaped.
        with collector_paused():
            text = json.dumps([socket_record(raw) for raw in raws], ensure_ascii=False)
        return text.replace('}, {"proto": ', '},\n {"proto": ') + "\n"
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
