"""Render a bare socket list (``fleetaudit parse``): the public socket JSON schema."""

from __future__ import annotations

import json
from collections.abc import Sequence

from tabulate import tabulate

from fleetaudit.model.socket import RawSocket, Socket, socket_record
from fleetaudit.report.escape import terminal_safe


def render_sockets(raws: Sequence[RawSocket], fmt: str) -> str:
    """``json``: a JSON array of socket objects; ``table``: one row per socket."""
    if fmt == "json":
        # One object per line, each through json's C encoder (indent= would force the much
        # slower pure-Python one); still a single JSON array.
        encode = json.JSONEncoder(ensure_ascii=False).encode
        body = ",\n".join(encode(socket_record(raw)) for raw in raws)
        return f"[\n{body}\n]\n" if body else "[]\n"
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
