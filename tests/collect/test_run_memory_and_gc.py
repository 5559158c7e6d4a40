"""What a fleet run keeps and how it drives the garbage collector: shared field-name sets
on snapshots, the collector settings of a run restored afterwards, and the run loop's
stop and error paths."""

from __future__ import annotations

import gc
from dataclasses import FrozenInstanceError, replace

import pytest
from pydantic import ValidationError

from fleetaudit import gctuning
from fleetaudit.auditor import Auditor
from fleetaudit.config import AuditConfig
from fleetaudit.gctuning import RunCollection, collector_paused
from fleetaudit.inventory.model import Host
from fleetaudit.model.enums import SocketState
from fleetaudit.model.host import HostSnapshot
from fleetaudit.policy import load_default_policy
from fleetaudit.transport import ReplayTransport
from tests.factories import snapshot, sock

LISTING = (
    "@@fleetaudit 1\n@@uid 0\n@@tool ss\n@@privilege root\n@@output\n"
    "Netid State Recv-Q Send-Q Local Address:Port Peer Address:PortProcess\n"
    'tcp LISTEN 0 128 0.0.0.0:3306 0.0.0.0:* users:(("mysqld",pid=7,fd=3))\n'
    'tcp LISTEN 0 128 127.0.0.1:5432 0.0.0.0:* users:(("postgres",pid=8,fd=3))\n'
)


def test_sockets_and_processes_are_slotted_records_and_snapshots_share_field_sets() -> None:
    # A busy host keeps hundreds of thousands of sockets until the report is written: a
    # per-instance dict and field-name set (a pydantic model's) cost ten times the values.
    first = snapshot("web1", sock(port=22), sock(port=80, process="nginx"))
    second = snapshot("web2", sock(port=443, process="nginx"))
    sockets = [*first.sockets, *second.sockets]
    assert not any(hasattr(s, "__dict__") for s in sockets)
    assert not any(hasattr(p, "__dict__") for s in sockets for p in s.processes)
    assert first.model_fields_set is second.model_fields_set


def test_slotted_sockets_still_validate_dump_and_copy() -> None:
    one = snapshot("web1", sock(port=22))
    copied = replace(one.sockets[0], recv_q=5)
    assert (copied.recv_q, one.sockets[0].recv_q) == (5, 0)
    with pytest.raises(ValidationError):
        replace(one.sockets[0], recv_q="many")
    with pytest.raises(FrozenInstanceError):
        one.sockets[0].recv_q = 7  # type: ignore[misc]
    dumped = one.model_dump(mode="json")
    assert dumped["sockets"][0]["local_port"] == 22
    assert dumped["sockets"][0]["processes"][0]["name"] == "sshd"
    reloaded = HostSnapshot.model_validate_json(one.model_dump_json())
    assert reloaded == one
    assert reloaded.listeners == one.listeners == one.sockets
    with pytest.raises(ValidationError, match=r"sockets.0.x"):
        HostSnapshot.model_validate({**dumped, "sockets": [{**dumped["sockets"][0], "x": 1}]})
    assert one.model_dump(exclude_unset=True)["host"] == "web1"


def test_run_collection_restores_thresholds_and_unfreezes() -> None:
    before = gc.get_threshold()
    assert gc.get_freeze_count() == 0
    with RunCollection(batch=10):
        assert gc.get_threshold()[0] >= 5000
        assert gc.get_freeze_count() > 0
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


def test_run_collection_leaves_a_callers_frozen_objects_alone() -> None:
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        with RunCollection(batch=10):
            pass
        assert gc.get_freeze_count() == frozen
    finally:
        gc.unfreeze()


def test_run_collection_collects_once_per_batch_then_once_per_quarter() -> None:
    full: list[int] = []
    done = 0

    def count(phase: str, info: dict[str, int]) -> None:
        if phase == "start" and info["generation"] == 2:
            full.append(done)

    gc.callbacks.append(count)
    try:
        with RunCollection(batch=10) as collection:
            for done in range(1, 76):  # noqa: B007 (read by the callback)
                collection.host_done()
            done = -1  # the collection on the way out
    finally:
        gc.callbacks.remove(count)
    # every 10 hosts, then once a quarter of the hosts done exceeds 10; the 5 hosts after
    # the last one at 70 are collected on exit
    assert full == [10, 20, 30, 40, 53, 70, -1]


def test_collector_paused_pauses_and_restores() -> None:
    assert gc.isenabled()
    with collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()  # it was off before: it stays off
    finally:
        gc.enable()


def _bulk() -> list[tuple[object, ...]]:
    return [(i, [i]) for i in range(120_000)]  # more than _BULK young containers


def _collections_after_a_bulk_block() -> list[int]:
    """The generations collected from a bulk block's end through a few allocations."""
    gc.collect()
    generations: list[int] = []

    def seen(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            generations.append(info["generation"])

    gc.callbacks.append(seen)
    try:
        with collector_paused():
            records = _bulk()
        more = [[] for _ in range(10)]  # would start a young collection over all records
    finally:
        gc.callbacks.remove(seen)
    assert len(records) == 120_000 and len(more) == 10
    return generations


def test_a_bulk_block_leaves_its_records_old_not_young(monkeypatch: pytest.MonkeyPatch) -> None:
    assert _collections_after_a_bulk_block() == []
    assert gc.get_freeze_count() == 0  # filed as old, not frozen for good
    monkeypatch.setattr(gctuning, "_BULK", 10**9)  # a block too small to file: collected
    assert _collections_after_a_bulk_block() != []


def test_a_bulk_block_inside_a_run_never_releases_what_the_run_froze() -> None:
    gc.collect()
    with RunCollection(batch=10):
        frozen = gc.get_freeze_count()
        assert frozen > 0
        with collector_paused():
            records = _bulk()
        assert gc.get_freeze_count() == frozen
    assert gc.get_freeze_count() == 0
    assert len(records) == 120_000


def _fleet(size: int) -> tuple[list[Host], ReplayTransport]:
    hosts = [Host(name=f"db{i}", address=f"192.0.2.{i}") for i in range(1, size + 1)]
    transport = ReplayTransport({h.name: lambda command: (0, LISTING, "") for h in hosts})
    return hosts, transport


def test_a_run_judges_every_host_and_leaves_the_collector_as_it_was() -> None:
    hosts, transport = _fleet(30)
    before = gc.get_threshold()
    run = Auditor(AuditConfig(concurrency=4), transport=transport).run(hosts, load_default_policy())
    assert [s.host for s in run.snapshots] == sorted(h.name for h in hosts)
    assert {f.host for f in run.findings if f.rule_id == "mysql-loopback"} == {
        h.name for h in hosts
    }
    assert gc.get_threshold() == before
    assert gc.isenabled() and gc.get_freeze_count() == 0


def test_an_error_in_the_host_listener_reaches_the_caller() -> None:
    hosts, transport = _fleet(3)

    def listener(done: HostSnapshot) -> None:
        raise RuntimeError(f"listener failed on {done.host}")

    auditor = Auditor(AuditConfig(), transport=transport, on_host=listener)
    with pytest.raises(RuntimeError, match="listener failed"):
        auditor.run(hosts, load_default_policy())
    assert gc.isenabled() and gc.get_freeze_count() == 0


def test_a_copy_with_other_sockets_has_their_listeners() -> None:
    # Listeners are picked once per snapshot; a library user's model_copy that swaps the
    # sockets must not keep the original's (a telnet listener added would go unjudged).
    original = snapshot("web1", sock(port=22), sock(port=80, process="nginx"))
    connection = sock("10.0.0.1", 22, state=SocketState.ESTABLISHED)
    telnet = sock(port=23, process="inetd")
    swapped = original.model_copy(update={"sockets": (connection, telnet)})
    assert swapped.listeners == (telnet,)
    assert swapped == HostSnapshot.model_validate(swapped.model_dump())
    assert original.model_copy().listeners == original.listeners
    assert original.model_copy(update={"sockets": ()}).listeners == ()
