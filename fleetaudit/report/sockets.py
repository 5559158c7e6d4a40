"""Render a bare socket list (``fleetaudit parse``): the public socket JSON schema."""

from __future__ import annotations

import json
from collections.abc import Sequence

from tabulate import tabulate

from fleetaudit.model.socket import RawSocket, Socket
from fleetaudit.report.escape import terminal_safe


def render_sockets(raws: Sequence[RawSocket], fmt: str) -> str:
    """``json``: a JSON array of socket objects; ``table``: one row per socket."""
    sockets = [Socket.from_raw(raw) for raw in raws]
    if fmt == "json":
        return json.dumps([s.model_dump(mode="json") for s in sockets], indent=1) + "\n"
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
