"""A fleetaudit bug met on one host costs that host, never the run: the other hosts are
audited and the report is written. (Before, an unexpected exception in one host's worker
left the run waiting forever for that worker.)"""

from __future__ import annotations

from datetime import date
from importlib import resources
from pathlib import Path

import pytest

from fleetaudit.auditor import Auditor, _judge
from fleetaudit.collect.reply import Reply, parse_reply
from fleetaudit.inventory.model import Host
from fleetaudit.lab.replies import RecordedHost
from fleetaudit.model import HostStatus, Privilege, Tool
from fleetaudit.policy import load_default_policy
from fleetaudit.transport import ReplayTransport
from tests.factories import captured

LISTING = Path(str(resources.files("fleetaudit").joinpath("data", "demo", "web1.ss.txt")))


def _raises(command: str) -> tuple[int, str, str]:
    raise RuntimeError("a bug in the transport")


@pytest.mark.timeout(60)
def test_an_unexpected_error_on_one_host_fails_that_host_only() -> None:
    good = RecordedHost(Tool.SS, LISTING.read_text(), login_uid=0).reply
    transport = ReplayTransport({"good1": good, "bad1": _raises, "good2": good})
    hosts = [Host(name=name, address=name) for name in ("good1", "bad1", "good2")]
    result = Auditor(transport=transport).run(hosts, load_default_policy())
    statuses = {s.host: s.status for s in result.snapshots}
    assert statuses == {
        "good1": HostStatus.OK,
        "bad1": HostStatus.SSH_ERROR,
        "good2": HostStatus.OK,
    }
    [bad] = [s for s in result.snapshots if s.host == "bad1"]
    assert bad.error is not None
    assert "internal error: RuntimeError: a bug in the transport" in bad.error


def test_a_header_digit_python_cannot_read_is_ignored_not_fatal() -> None:
    # "²".isdigit() is True but int("²") fails: this stalled a whole run
    reply = parse_reply(
        "@@fleetaudit 1\n@@ListenOverflows \u00b2\n@@ListenDrops 7\n@@tool ss\n"
        "@@privilege root\n@@output\n"
    )
    assert reply.counters == {"ListenDrops": 7}


def test_an_error_while_judging_one_host_becomes_its_status() -> None:
    broken = Reply(Tool.SS, Privilege.ROOT, "0", None, output=None)  # type: ignore[arg-type]
    snapshot, findings = _judge(captured(broken), load_default_policy(), date(2026, 11, 24))
    assert (snapshot.status, findings) == (HostStatus.PARSE_ERROR, [])
    assert snapshot.error is not None and "internal error while reading" in snapshot.error
