"""Turn one host's capture into a snapshot: parse the tool output, build the models.

This is the glue between the collect, parse and model stages; it is pure (no I/O).
"""

from __future__ import annotations

from typing import Any

from fleetaudit.collect.runner import HostCapture
from fleetaudit.errors import CaptureError
from fleetaudit.model.enums import HostStatus, Privilege
from fleetaudit.model.host import HostSnapshot
from fleetaudit.model.socket import Socket
from fleetaudit.parse import parse_capture


def build_snapshot(capture: HostCapture) -> HostSnapshot:
    """The snapshot of a captured host; a failed capture keeps its status and error."""
    host = capture.host
    base: dict[str, Any] = {
        "host": host.name,
        "address": host.address,
        "groups": host.groups,
        "labels": host.labels,
        "collected_at": capture.started_at,
        "duration_s": capture.duration_s,
        "host_key_checked": capture.host_key_checked,
    }
    reply = capture.reply
    if capture.status is not HostStatus.OK or reply is None:
        return HostSnapshot(status=capture.status, error=capture.error, **base)
    privileged = reply.privilege is Privilege.ROOT
    try:
        _, parsed = parse_capture(
            reply.output, tool=reply.tool, privileged=privileged, source=host.name
        )
    except CaptureError as exc:
        return HostSnapshot(
            status=HostStatus.PARSE_ERROR,
            error=exc.message,
            tool=reply.tool,
            privilege=reply.privilege,
            **base,
        )
    return HostSnapshot(
        status=HostStatus.OK,
        tool=reply.tool,
        privilege=reply.privilege,
        privilege_note=_privilege_note(capture),
        sockets=tuple(Socket.from_raw(raw) for raw in parsed.sockets),
        parse_errors=parsed.errors,
        **base,
    )


def _privilege_note(capture: HostCapture) -> str | None:
    reply = capture.reply
    if reply is None or reply.privilege is Privilege.ROOT:
        return None
    if reply.sudo_refused is not None:
        refusal = reply.sudo_refused.strip()
        return f"sudo -n refused ({refusal}); owners of other users' sockets unknown"
    if capture.host.become:
        return "no privilege; owners of other users' sockets unknown"
    return "become is off and the login user is not root; owners of other users' sockets unknown"
