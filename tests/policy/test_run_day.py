"""A run judges every host by one date, the UTC day it started on: a night that crosses
midnight on a waiver's expiry date treated the waiver as in force on the hosts judged
before midnight and as expired on the others (QA: 187 hosts one way, 213 the other, in one
run)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path

import pytest

import fleetaudit.policy.engine
from fleetaudit.auditor import Auditor
from fleetaudit.inventory.model import Host
from fleetaudit.lab.replies import RecordedHost
from fleetaudit.model import Tool
from fleetaudit.transport import ReplayTransport
from tests.policy.builders import policy

LISTING = Path(str(resources.files("fleetaudit").joinpath("data", "demo", "web1.ss.txt")))


class _AfterMidnight(datetime):
    """The clock the judging reads once the run has crossed into the next UTC day."""

    @classmethod
    def now(cls, tz: object = None) -> _AfterMidnight:
        later = datetime.now(UTC) + timedelta(days=1)
        return cls.fromtimestamp(later.timestamp(), UTC)


@pytest.mark.timeout(60)
def test_a_waiver_expiring_on_the_day_a_run_started_holds_for_every_host(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    started_day = datetime.now(UTC).date()
    rules = policy(
        f"""
        version: 1
        rules:
          - {{id: no-ssh, kind: forbidden, severity: high, description: no sshd,
             match: {{port: 22}}}}
        waivers:
          - {{rule: no-ssh, reason: jump hosts until the migration, expires: {started_day}}}
        """
    )
    monkeypatch.setattr(fleetaudit.policy.engine, "datetime", _AfterMidnight)
    reply = RecordedHost(Tool.SS, LISTING.read_text(), login_uid=0).reply
    names = [f"web{n}" for n in range(1, 6)]
    transport = ReplayTransport(dict.fromkeys(names, reply))
    result = Auditor(transport=transport).run([Host(name=n, address=n) for n in names], rules)
    if datetime.now(UTC).date() != started_day:
        pytest.skip("the real clock crossed midnight UTC during the test")
    assert {f.host for f in result.findings} == set(names)  # sshd on 0.0.0.0 and [::]
    assert all(f.waived for f in result.findings)
