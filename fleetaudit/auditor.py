"""The library entry point: audit hosts against a policy and get a RunResult.

``Auditor(config).run(hosts, policy)`` does everything ``fleetaudit run`` does except
printing and exiting; nothing below the CLI prints or calls ``sys.exit``.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import secrets
from collections.abc import Callable, Coroutine, Iterable
from dataclasses import replace
from datetime import UTC, date, datetime

from fleetaudit import __version__
from fleetaudit.collect.lookups import AuditLoop
from fleetaudit.collect.runner import CollectSettings, HostCapture, collect_fleet
from fleetaudit.collect.stopping import StopRequest
from fleetaudit.config import AuditConfig
from fleetaudit.gctuning import RunCollection, collector_paused
from fleetaudit.inventory.model import Host, TransportKind
from fleetaudit.model.enums import HostStatus
from fleetaudit.model.finding import Finding
from fleetaudit.model.host import HostSnapshot
from fleetaudit.model.run import RuleInfo, RunResult, in_report_order
from fleetaudit.policy import Policy, evaluate
from fleetaudit.policy.engine import applicable_rules
from fleetaudit.snapshot import build_snapshot
from fleetaudit.transport import LocalTransport, SshSettings, SshTransport
from fleetaudit.transport.interface import Transport

HostListener = Callable[[HostSnapshot], None]


class Auditor:
    """Runs audits with one configuration.

    ``transport`` replaces the real transports for every host (the demo, replayed captures,
    tests); by default SSH hosts use asyncssh and ``transport: local`` hosts run here.
    ``on_host`` is called with each host's snapshot as soon as it is done (progress).
    """

    def __init__(
        self,
        config: AuditConfig | None = None,
        *,
        transport: Transport | None = None,
        on_host: HostListener | None = None,
        stop_on_signals: bool = False,
    ) -> None:
        self.config = config or AuditConfig()
        self._override = transport
        self._on_host = on_host
        self._stop_on_signals = stop_on_signals

    def run(self, hosts: Iterable[Host], policy: Policy) -> RunResult:
        """Audit ``hosts`` and judge them against ``policy`` (blocking)."""
        done: list[RunResult] = []

        async def main() -> None:
            done.append(await self.run_async(hosts, policy))

        # The main task returns None on purpose: on exit, CPython 3.11's asyncio.run() can
        # format the repr of its main task, result included, which for a thousand-host run
        # costs more CPU than auditing a few hundred hosts.
        with asyncio.Runner(loop_factory=AuditLoop) as runner:
            runner.run(main())
        return done[0]

    async def run_async(self, hosts: Iterable[Host], policy: Policy) -> RunResult:
        """Audit ``hosts`` and judge them against ``policy``."""
        started = datetime.now(UTC)
        # One day for the whole run: a run that crosses midnight UTC on a waiver's expiry
        # date judged it in force on some hosts and expired on others (QA).
        judging_day = started.date()
        transports = self._transports()
        snapshots: list[HostSnapshot] = []
        findings: list[Finding] = []
        settings = CollectSettings(
            concurrency=self.config.concurrency,
            command_timeout=self.config.command_timeout,
            host_deadline=self.config.host_deadline,
            samples=self.config.samples,
            interval=self.config.interval,
        )
        targets = list(hosts)
        stop = StopRequest()
        if self._stop_on_signals:
            stop.install()
        collector = collect_fleet(targets, transports, settings)

        collection = RunCollection(batch=settings.concurrency)

        async def consume() -> None:
            async for capture in collector:
                snapshot, judged = await _judged(capture, policy, judging_day)
                findings.extend(judged)
                snapshots.append(snapshot)
                if self._on_host is not None:
                    self._on_host(snapshot)
                collection.host_done()

        try:
            with collection:
                await _until_stopped(consume(), stop)
        finally:
            stop.uninstall()
            await collector.aclose()
            await transports.aclose()
        if stop.signal_name is not None:
            snapshots += _interrupted(targets, snapshots, stop.signal_name, started)
        result = _result(started, policy, self.config, snapshots, findings)
        return result.model_copy(update={"interrupted_by": stop.signal_name})

    def _transports(self) -> _TransportSet:
        if self._override is not None:
            return _TransportSet(self._override, self._override)
        settings = SshSettings(
            known_hosts=self.config.known_hosts,
            host_key_policy=self.config.host_key_policy,
            accept_new_file=self.config.accept_new_file,
            connect_timeout=self.config.connect_timeout,
            login_timeout=self.config.login_timeout,
            max_output_bytes=self.config.max_output_bytes,
            use_ssh_config=self.config.use_ssh_config,
            ssh_config=self.config.ssh_config,
            # by then every host on a silent jump connection has failed by its own deadline
            jump_silence_s=self.config.host_deadline,
        )
        local = LocalTransport(max_output_bytes=self.config.max_output_bytes)
        return _TransportSet(SshTransport(settings), local)


class _TransportSet:
    """Chooses the transport for each host and closes them all at the end of the run."""

    def __init__(self, ssh: Transport, local: Transport) -> None:
        self._ssh = ssh
        self._local = local

    def __call__(self, host: Host) -> Transport:
        return self._local if host.transport is TransportKind.LOCAL else self._ssh

    async def aclose(self) -> None:
        await self._ssh.aclose()
        if self._local is not self._ssh:
            await self._local.aclose()


async def _until_stopped(work: Coroutine[object, object, None], stop: StopRequest) -> None:
    """Run ``work`` until it ends or a stop is requested; then it is cancelled where it
    waits (for the next host), so whatever it finished stays finished. One task for the
    whole run: waiting on "next host or stop" per host cost two tasks per host."""
    task = asyncio.ensure_future(work)
    stopped = asyncio.ensure_future(stop.event.wait())
    try:
        await asyncio.wait({task, stopped}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopped.cancel()
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    if not task.cancelled():
        task.result()  # the work's own exception, if it raised one


def _interrupted(
    targets: list[Host], done: list[HostSnapshot], signal_name: str, started: datetime
) -> list[HostSnapshot]:
    """Snapshots for the hosts a stopped run never finished."""
    finished = {snapshot.host for snapshot in done}
    return [
        HostSnapshot(
            host=host.name,
            address=host.address,
            groups=host.groups,
            labels=host.labels,
            status=HostStatus.INTERRUPTED,
            error=f"the run was stopped by {signal_name} before this host finished",
            collected_at=started,
        )
        for host in targets
        if host.name not in finished
    ]


def _result(
    started: datetime,
    policy: Policy,
    config: AuditConfig,
    snapshots: list[HostSnapshot],
    findings: list[Finding],
) -> RunResult:
    hosts, ordered = in_report_order(snapshots, findings)
    return RunResult(
        run_id=f"{started:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}",
        started_at=started,
        finished_at=datetime.now(UTC),
        fleetaudit_version=__version__,
        policy_name=policy.name,
        policy_source=policy.source,
        host_key_policy=config.host_key_policy,
        snapshots=hosts,
        findings=ordered,
        rules=tuple(RuleInfo.model_validate(rule, from_attributes=True) for rule in policy.rules),
        policy_digest=policy_digest(policy),
    )


def policy_digest(policy: Policy) -> str:
    """SHA-256 of ``policy``'s rules and waivers in canonical JSON: equal for the same
    policy read from two paths, different for two versions of one file, so that ``merge``
    can tell shards judged by different policies. The name and paths are left out on
    purpose (``merge`` compares the name on its own)."""
    content = {
        "rules": [rule.model_dump(mode="json") for rule in policy.rules],
        "waivers": [waiver.model_dump(mode="json") for waiver in policy.waivers],
    }
    text = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode("ascii")).hexdigest()


_INLINE_OUTPUT = 1 << 20
"""Listing characters up to which a host is judged on the event loop (well under 0.1 s);
a larger one is judged in a worker thread."""


async def _judged(
    capture: HostCapture, policy: Policy, day: date
) -> tuple[HostSnapshot, list[Finding]]:
    """:func:`_judge`, without stalling the other hosts: parsing a 500,000-socket listing
    takes seconds, and an event loop blocked that long would read nobody's replies while
    their command timeouts ran out, failing hosts that had answered in time. The thread
    shares the interpreter lock, so the loop still runs between its slices."""
    replies = (capture.reply, *capture.earlier) if capture.reply is not None else ()
    if sum(len(reply.output) for reply in replies) <= _INLINE_OUTPUT:
        return _paused_judge(capture, policy, day)
    return await asyncio.to_thread(_paused_judge, capture, policy, day)


def _paused_judge(
    capture: HostCapture, policy: Policy, day: date
) -> tuple[HostSnapshot, list[Finding]]:
    with collector_paused():
        return _judge(capture, policy, day)


def _judge(capture: HostCapture, policy: Policy, day: date) -> tuple[HostSnapshot, list[Finding]]:
    """The host's snapshot and findings, waivers applied as of the run's ``day``. An
    unexpected error while reading or judging one host (a fleetaudit bug) fails that host
    alone, with the error's text: the other hosts' results are kept and the report is still
    written."""
    try:
        snapshot = build_snapshot(capture)
        if snapshot.status is not HostStatus.OK:  # not judged: no rule looked at it
            return snapshot, []
        applicable = applicable_rules(snapshot, policy)
        findings = evaluate(snapshot, policy, day, applicable)
        judged = tuple(rule.id for rule in applicable)
        return snapshot.model_copy(update={"rules_judged": judged}), findings
    except Exception as exc:
        error = (
            f"internal error while reading or judging this host: {type(exc).__name__}: "
            f"{exc} (this is a bug; please report it)"
        )
        failed = replace(capture, status=HostStatus.PARSE_ERROR, reply=None, error=error)
        return build_snapshot(failed), []
