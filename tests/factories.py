"""Small builders for real model objects, shared by tests (no mocks: these are the models)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import TypeAdapter

from fleetaudit.collect.reply import Reply
from fleetaudit.collect.runner import HostCapture
from fleetaudit.inventory.model import Host
from fleetaudit.model import (
    Family,
    Finding,
    HostKeyPolicy,
    HostSnapshot,
    HostStatus,
    Privilege,
    Proto,
    RawProcess,
    RawSocket,
    RunResult,
    Severity,
    Socket,
    SocketState,
    Tool,
    fingerprint,
)

T0 = datetime(2026, 11, 24, 3, 15, tzinfo=UTC)


def as_json(record: Socket) -> Any:
    """A socket as the JSON report writes it (sockets are slotted pydantic dataclasses, not
    models: they have no ``model_dump`` of their own)."""
    return TypeAdapter(Socket).dump_python(record, mode="json")


def sock(
    address: str = "0.0.0.0",
    port: int = 22,
    process: str | None = "sshd",
    *,
    state: SocketState = SocketState.LISTEN,
    proto: Proto = Proto.TCP,
    tool: Tool = Tool.SS,
    recv_q: int = 0,
    send_q: int = 128,
    interface: str | None = None,
    pid: int = 100,
    owner_known: bool = True,
) -> Socket:
    family = Family.IPV6 if ":" in address else Family.IPV4
    fd = 3 if tool is Tool.SS else None  # netstat prints no descriptor
    processes = (RawProcess(process, pid, fd),) if process else ()
    return Socket.from_raw(
        RawSocket(
            tool=tool,
            proto=proto,
            family=family,
            state=state,
            recv_q=recv_q,
            send_q=send_q,
            local_address=address,
            local_port=port,
            local_interface=interface,
            peer_address="0.0.0.0" if family is Family.IPV4 else "::",
            peer_port=None,
            processes=processes,
            owner_known=owner_known or bool(processes),
        )
    )


def snapshot(host: str = "web1", *sockets: Socket, **fields: object) -> HostSnapshot:
    values: dict[str, object] = {
        "host": host,
        "address": f"{host}.example.com",
        "status": HostStatus.OK,
        "tool": Tool.SS,
        "privilege": Privilege.ROOT,
        "collected_at": T0,
        "sockets": sockets,
    }
    values.update(fields)
    return HostSnapshot.model_validate(values)


def finding(host: str, socket: Socket, severity: Severity = Severity.HIGH) -> Finding:
    return Finding(
        rule_id="test-rule",
        severity=severity,
        host=host,
        message=f"{socket.process_names} listens on {socket.endpoint}",
        socket=socket,
        fingerprint=fingerprint("test-rule", host, socket),
    )


def run_result(
    snapshots: tuple[HostSnapshot, ...], findings: tuple[Finding, ...] = (), **fields: object
) -> RunResult:
    values: dict[str, object] = {
        "run_id": "20261124T031500Z-abcdef",
        "started_at": T0,
        "finished_at": T0,
        "fleetaudit_version": "0.1.0",
        "policy_name": "test",
        "policy_source": "test.yaml",
        "host_key_policy": HostKeyPolicy.STRICT,
        "snapshots": snapshots,
        "findings": findings,
    }
    values.update(fields)
    return RunResult.model_validate(values)


def captured(reply: Reply, host: str = "h1", **host_fields: object) -> HostCapture:
    """A host's successful collection that returned ``reply`` (what build_snapshot reads)."""
    return HostCapture(
        host=Host.model_validate({"name": host, "address": "127.0.0.1", **host_fields}),
        status=HostStatus.OK,
        started_at=T0,
        duration_s=0.1,
        reply=reply,
    )
