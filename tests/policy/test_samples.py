"""--samples: backlog and queue rules flag only what persists, through the whole pipeline
(collection over one session, parse of every sample, snapshot history, rules)."""

from __future__ import annotations

from collections.abc import Iterator

from fleetaudit.auditor import Auditor
from fleetaudit.config import AuditConfig
from fleetaudit.inventory.model import Host
from fleetaudit.model.run import RunResult
from fleetaudit.policy import load_default_policy
from fleetaudit.transport import ReplayTransport

HEADER = "Netid State Recv-Q Send-Q Local Address:Port Peer Address:PortProcess"
LISTENER = 'tcp LISTEN {queue} 128 0.0.0.0:8080 0.0.0.0:* users:(("java",pid=1410,fd=9))'
READER = 'tcp ESTAB {recv} 0 10.0.0.5:8080 10.0.0.9:55120 users:(("java",pid=1410,fd=140))'


def reply(queue: int, recv: int, overflows: int) -> str:
    listing = "\n".join([HEADER, LISTENER.format(queue=queue), READER.format(recv=recv)])
    return (
        f"@@fleetaudit 1\n@@uid 0\n@@ListenOverflows {overflows}\n@@ListenDrops {overflows}\n"
        f"@@tool ss\n@@privilege root\n@@output\n{listing}\n"
    )


def audit(replies: list[str]) -> RunResult:
    answers: Iterator[str] = iter(replies)
    transport = ReplayTransport({"app1": lambda command: (0, next(answers), "")})
    config = AuditConfig(samples=len(replies), interval=0.01)
    hosts = [Host(name="app1", address="192.0.2.13")]
    return Auditor(config, transport=transport).run(hosts, load_default_policy())


def rules_of(run: RunResult) -> set[str]:
    return {f.rule_id for f in run.findings}


def test_a_backlog_in_every_sample_is_flagged_with_kernel_counters() -> None:
    run = audit([reply(120, 2_000_000, 10), reply(125, 3_000_000, 40), reply(129, 4_000_000, 62)])
    [backlog] = [f for f in run.findings if f.rule_id == "listen-backlog"]
    assert "accept queue 129/128 in all 3 samples (120, 125, 129), full" in backlog.message
    # host-wide counters, said to be so: not this listener's own (QA)
    assert (
        "the host's kernel counters over the sampling, all listeners: ListenOverflows +52, "
        "ListenDrops +52" in backlog.message
    )
    [queue] = [f for f in run.findings if f.rule_id == "socket-queues"]
    assert "in all 3 samples (2000000, 3000000, 4000000 bytes)" in queue.message
    snapshot = run.snapshots[0]
    assert (snapshot.samples, snapshot.listen_overflows) == (3, 52)


def test_a_transient_burst_is_not_flagged() -> None:
    run = audit([reply(0, 0, 5), reply(129, 4_000_000, 5)])
    assert not rules_of(run) & {"listen-backlog", "socket-queues"}
    single = audit([reply(129, 4_000_000, 5)])
    assert {"listen-backlog", "socket-queues"} <= rules_of(single)


def test_drops_no_listener_explains_are_a_finding_of_the_host() -> None:
    """The counters grew, but no queue was over the threshold in every sample: the drops
    are the only sign, and they are the host's, not a listener's."""
    run = audit([reply(0, 0, 5), reply(129, 0, 40)])
    [dropped] = [f for f in run.findings if f.rule_id == "listen-backlog"]
    assert dropped.socket is None
    assert dropped.message.startswith(
        "app1 dropped connections during the 2 samples (kernel counters: ListenOverflows +35, "
        "ListenDrops +35), but no listener was known to be full in every sample"
    )
    assert "(a burst)" in dropped.message


NETSTAT_REPLY = (
    "@@fleetaudit 1\n@@uid 0\n@@ListenOverflows {overflows}\n@@ListenDrops {overflows}\n"
    "@@tool netstat\n@@privilege root\n@@output\n"
    "Active Internet connections (servers and established)\n"
    "Proto Recv-Q Send-Q Local Address           Foreign Address         State       "
    "PID/Program name\n"
    "tcp        6      0 127.0.0.1:5040          0.0.0.0:*               LISTEN      "
    "4242/python3\n"
)


def test_without_ss_drops_of_a_small_backlog_are_a_finding_of_the_host() -> None:
    """netstat shows no limit: a listen(5) queue overflowing never reaches min_queue, so
    the kernel's counters are the only sign (QA: 170 drops, no finding)."""
    run = audit([NETSTAT_REPLY.format(overflows=n) for n in (10, 95, 180)])
    [dropped] = [f for f in run.findings if f.rule_id == "listen-backlog"]
    assert dropped.socket is None and "ListenOverflows +170" in dropped.message
    assert "its listing shows no backlog limits (take it with ss)" in dropped.message
    quiet = audit([NETSTAT_REPLY.format(overflows=10) for _ in range(3)])
    assert "listen-backlog" not in rules_of(quiet)


def test_without_ss_a_listener_over_min_queue_does_not_explain_the_drops() -> None:
    """QA: a listen(256) queue at 210 passed min_queue and took the host's counters, so
    the drops finding was left out, though nothing said which queue overflowed (here the
    listen(5) one): without ss, no listener is known to be full."""
    busy = NETSTAT_REPLY.replace(
        "4242/python3\n",
        "4242/python3\n"
        "tcp      210      0 127.0.0.1:5007          0.0.0.0:*               LISTEN      "
        "4243/python3\n",
    )
    run = audit([busy.format(overflows=n) for n in (10, 95, 180)])
    findings = [f for f in run.findings if f.rule_id == "listen-backlog"]
    assert [f.socket.local_port if f.socket else None for f in findings] == [5007, None]


def test_one_session_serves_every_sample() -> None:
    opened = []

    class Counting(ReplayTransport):
        async def open(self, host: Host):  # type: ignore[no-untyped-def]
            opened.append(host.name)
            return await super().open(host)

    answers = iter([reply(1, 0, 0), reply(1, 0, 0)])
    transport = Counting({"app1": lambda command: (0, next(answers), "")})
    Auditor(AuditConfig(samples=2, interval=0), transport=transport).run(
        [Host(name="app1", address="192.0.2.13")], load_default_policy()
    )
    assert opened == ["app1"]


def twins(full: int, drained: int, extras: str = "") -> str:
    """Two SO_REUSEPORT listeners on one address: one never accepts, its twin, listed
    after it, drains its queue (with -e extras, each with its own inode)."""
    rows = [
        f'tcp LISTEN {full} 4 127.0.0.1:7500 0.0.0.0:* users:(("app",pid=7,fd=3))'
        + extras.format(ino=1001),
        f'tcp LISTEN {drained} 4 127.0.0.1:7500 0.0.0.0:* users:(("app",pid=8,fd=3))'
        + extras.format(ino=1002),
    ]
    listing = "\n".join([HEADER, *rows])
    return f"@@fleetaudit 1\n@@uid 0\n@@tool ss\n@@privilege root\n@@output\n{listing}\n"


def test_a_full_listener_is_not_hidden_by_its_reuseport_twin() -> None:
    """Both shared one key, so the twin listed last gave the other its queues: a queue full
    in every sample read as drained in the earlier ones, and nothing was flagged (QA)."""
    for extras in (" ino:{ino} sk:1 <->", ""):  # with -e, each by its inode; without, the fuller
        run = audit([twins(5, 0, extras), twins(5, 0, extras), twins(5, 0, extras)])
        backlogs = [f for f in run.findings if f.rule_id == "listen-backlog"]
        assert len(backlogs) == 1, extras
        assert "accept queue 5/4 in all 3 samples (5, 5, 5)" in backlogs[0].message
    # a twin full only in the last sample is still a transient burst, inode or not
    for extras in (" ino:{ino} sk:1 <->", ""):
        run = audit([twins(0, 0, extras), twins(0, 0, extras), twins(5, 0, extras)])
        assert not [f for f in run.findings if f.rule_id == "listen-backlog"], extras


def test_a_full_listener_restarted_between_samples_is_still_flagged() -> None:
    """A service restarted between samples (because it stopped accepting, say) has a new
    inode each time: keyed by inode alone, its history was lost and nothing flagged (QA)."""
    restarted = [
        twins(5, 0, f" ino:{{ino}}{n} sk:1 <->").replace("pid=8", f"pid={8 + n}") for n in range(3)
    ]
    run = audit(restarted)
    backlogs = [f for f in run.findings if f.rule_id == "listen-backlog"]
    assert len(backlogs) == 1
    assert "accept queue 5/4 in all 3 samples (5, 5, 5)" in backlogs[0].message


def test_a_restart_after_the_first_sample_keeps_the_listener_flagged() -> None:
    """Inodes 1001 -> 2001 -> 2001: the new inode had history of its own, so the address's
    was never consulted, and the first sample counted as empty (QA)."""
    restarted = [twins(5, 0, f" ino:{{ino}}{generation} sk:1 <->") for generation in (1, 2, 2)]
    backlogs = [f for f in audit(restarted).findings if f.rule_id == "listen-backlog"]
    assert len(backlogs) == 1
    assert "accept queue 5/4 in all 3 samples (5, 5, 5)" in backlogs[0].message


def test_a_twin_seen_empty_earlier_is_not_given_its_full_twins_history() -> None:
    """With inodes, a twin that was there and empty in an earlier sample is judged by its
    own queues: a burst now is not a persistent queue because its twin stayed full."""
    burst = [twins(5, 0, " ino:{ino} sk:1 <->"), twins(5, 0, " ino:{ino} sk:1 <->")]
    burst.append(twins(5, 5, " ino:{ino} sk:1 <->"))  # the twin (1002) fills only now
    backlogs = [f for f in audit(burst).findings if f.rule_id == "listen-backlog"]
    assert len(backlogs) == 1
    assert backlogs[0].socket is not None and backlogs[0].socket.inode == 1001
