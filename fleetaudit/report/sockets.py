"""Render a bare socket list (``fleetaudit parse``): the public socket JSON schema."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from fleetaudit.gctuning import collector_paused
from fleetaudit.model.raw import RawSocket
from fleetaudit.report.escape import terminal_safe
from fleetaudit.report.socket_json import json_array


def render_sockets(raws: Sequence[RawSocket], fmt: str) -> Iterator[str]:
    """The listing as text pieces: ``json``, a JSON array of socket objects, one per line,
    written in chunks (:mod:`.socket_json`); ``table``, one row per socket."""
    if fmt == "json":
        with collector_paused():
            yield from json_array(raws)
        return
    yield _table(raws)


def _table(raws: Sequence[RawSocket]) -> str:
    # Imported here: the JSON listing, the common case, needs neither (see the package).
    from tabulate import tabulate

    from fleetaudit.model.socket import Socket

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
