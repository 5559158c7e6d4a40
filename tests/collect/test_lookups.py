"""Name lookups run on daemon threads that the end of a run does not wait for."""

from __future__ import annotations

import asyncio
import socket
import threading
import time

import pytest

from fleetaudit.collect.lookups import AuditLoop, LookupThreads


def test_a_lookup_nobody_waits_for_does_not_hold_up_the_end_of_the_run() -> None:
    """A resolver that never answers kept a lookup running for its own timeout (30 s in
    QA's resolv.conf) after the host had timed out, and the end of the loop waited for it
    before the report could be written, even after a SIGTERM."""
    hung = threading.Event()  # stands for the resolver that does not answer
    answered = threading.Event()

    def lookup() -> None:
        hung.wait(60)
        answered.set()

    async def main() -> None:
        loop = asyncio.get_running_loop()
        lookups = loop._lookup_threads  # type: ignore[attr-defined]
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(loop.run_in_executor(lookups, lookup), 0.2)

    try:
        with asyncio.Runner(loop_factory=AuditLoop) as runner:
            runner.run(main())
        # the loop closed while the lookup still waited: the end of the run did not join it
        assert not answered.is_set()
    finally:
        hung.set()  # let the abandoned thread end


def test_lookups_give_their_results_and_errors() -> None:
    threads = LookupThreads(workers=2)
    try:
        found = [threads.submit(socket.getaddrinfo, "127.0.0.1", 22) for _ in range(5)]
        assert {f.result(timeout=10)[0][4] for f in found} == {("127.0.0.1", 22)}
        with pytest.raises(ValueError, match="invalid literal"):
            threads.submit(int, "not a number").result(timeout=10)
    finally:
        threads.shutdown()


def test_lookups_that_hang_do_not_hold_up_later_work() -> None:
    """asyncssh builds each connection's options on this executor too: 32 (and asyncio's
    own 6) threads held by a resolver that does not answer queued every later host, those
    given by address included, past --connect-timeout (QA round 5)."""
    hung = threading.Event()
    threads = LookupThreads()
    try:
        for _ in range(100):
            threads.submit(hung.wait, 60)
        assert threads.submit(sum, (1, 2)).result(timeout=10) == 3
    finally:
        hung.set()
        threads.shutdown()


def test_idle_threads_are_used_first_and_end_with_the_executor() -> None:
    threads = LookupThreads()

    def running() -> int:
        mine = f"fleetaudit-lookup-{id(threads):x}"
        return sum(1 for thread in threading.enumerate() if thread.name == mine)

    for _ in range(50):
        assert threads.submit(sum, (1, 2)).result(timeout=10) == 3
    assert 1 <= running() <= 2  # one, or two if the first was not yet counted idle
    threads.shutdown()
    deadline = time.monotonic() + 10
    while running() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert running() == 0


def test_the_audit_loop_looks_names_up_on_its_own_threads() -> None:
    """Lookups apart from the default executor, where asyncssh builds each connection's
    options: hung lookups (past the thread bound) then never hold up a host given by
    address, nor any connection's set-up outside its --connect-timeout."""

    async def main() -> tuple[object, bool, str]:
        loop = asyncio.get_running_loop()
        found = await loop.getaddrinfo("127.0.0.1", 22, type=socket.SOCK_STREAM)
        mine = f"fleetaudit-lookup-{id(loop._lookup_threads):x}"  # type: ignore[attr-defined]
        lookup_threads = any(thread.name == mine for thread in threading.enumerate())
        other_work_on = await loop.run_in_executor(None, lambda: threading.current_thread().name)
        return found[0][4], lookup_threads, other_work_on

    with asyncio.Runner(loop_factory=AuditLoop) as runner:
        address, looked_up_on_its_threads, other_thread = runner.run(main())
    assert address == ("127.0.0.1", 22)
    assert looked_up_on_its_threads
    assert not other_thread.startswith("fleetaudit-lookup-")
