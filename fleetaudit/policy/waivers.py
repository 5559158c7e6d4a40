"""Waivers: accepted risks, written down with a reason and an end date.

A ``waivers:`` entry in the policy file::

    waivers:
      - rule: datastores-private-on-db-hosts   # the rule id it waives (must exist)
        select: {hosts: [db3]}                 # optional: which hosts (a host selector)
        match: {port: 3306}                    # optional: which sockets (a socket matcher)
        gap: unprivileged                      # coverage only, optional: which gaps
        reason: replica seeding until the VPN link is up     # required
        expires: 2026-12-31                    # required; the last day it holds
        ticket: SEC-1234                       # optional

A waived finding stays in every machine format, marked with its waiver, and never counts
toward the exit code. Once ``expires`` has passed the waiver stops hiding the finding, and
the report says it expired, so an accepted risk cannot silently become permanent.
``expires`` is compared with the current UTC date. It must be a calendar date: an integer
such as ``20261128`` is refused (pydantic would read it as a Unix timestamp).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence, Set
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

from fleetaudit.model.finding import AppliedWaiver, Finding
from fleetaudit.model.host import HostSnapshot
from fleetaudit.policy.doubts import unshown_facts
from fleetaudit.policy.matchers import Lean, SocketMatch, invalid
from fleetaudit.policy.rules.coverage import GAPS
from fleetaudit.policy.selectors import HostSelector

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


def _ticket_number(value: object) -> object:
    """``ticket: 4521`` is ticket 4521: a number there cannot mean anything else."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_DATE_FORMAT = "expires must be a date, YYYY-MM-DD"


def calendar_date(value: Any) -> Any:
    """Accept a date (unquoted in YAML) or a ``"YYYY-MM-DD"`` string, nothing else: pydantic
    would read ``20261128`` as a Unix timestamp and fail with a message about times."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, datetime):
        raise invalid(f"{_DATE_FORMAT}, without a time (not {value.isoformat(' ')!r})")
    if isinstance(value, str) and _ISO_DATE.fullmatch(value):
        try:
            return date.fromisoformat(value)
        except ValueError as exc:
            raise invalid(f"{_DATE_FORMAT} ({value!r}: {exc})") from None
    raise invalid(f"{_DATE_FORMAT} (not {value!r})")


CalendarDate = Annotated[date, BeforeValidator(calendar_date)]


def coverage_gaps(value: Any) -> Any:
    """One gap of the ``coverage`` rule or a list of them (:data:`GAPS`), as a tuple."""
    gaps = [value] if isinstance(value, str) else value
    if not isinstance(gaps, list | tuple) or not gaps:
        raise invalid(f"gap is one of {', '.join(GAPS)}, or a list of them")
    unknown = [gap for gap in gaps if gap not in GAPS]
    if unknown:
        raise invalid(f"unknown gap {unknown[0]!r}: the coverage rule's are {', '.join(GAPS)}")
    return tuple(gaps)


class Waiver(BaseModel):
    """One accepted risk: which findings it covers, why, and until when."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    rule: Text
    select: HostSelector = Field(default_factory=HostSelector)
    match: SocketMatch | None = None
    gap: Annotated[tuple[str, ...], BeforeValidator(coverage_gaps)] | None = None
    """For a ``coverage`` rule: the gaps accepted (unread lines and unverified host keys
    stay findings when only ``unprivileged`` is named); None: every finding of the rule."""
    reason: Text
    expires: CalendarDate
    ticket: Annotated[Text, BeforeValidator(_ticket_number)] | None = None

    def covers(
        self,
        finding: Finding,
        snapshot: HostSnapshot,
        rule_names: Set[str] = frozenset(),
        lean: Lean = Lean.EXCUSE,
    ) -> bool:
        """True when ``finding`` (on ``snapshot``'s host) is one this waiver names: by its
        rule's id, or one of ``rule_names`` (see :meth:`Rule.waiver_names`). A fact its
        ``match`` asks about that the listing did not show counts as ``lean`` says: unmet,
        so that a waiver excuses only what the listing shows."""
        named = self.rule == finding.rule_id or self.rule in rule_names
        if not named or not self.select.selects(snapshot):
            return False
        if self.gap is not None and finding.aspect not in self.gap:
            return False
        if self.match is None:
            return True
        return finding.socket is not None and self.match.matches(finding.socket, lean)


def apply_waivers(
    findings: Iterable[Finding],
    snapshot: HostSnapshot,
    waivers: Sequence[Waiver],
    today: date,
    waiver_names: Mapping[str, Set[str]] | None = None,
) -> list[Finding]:
    """``findings`` with a covering waiver attached to each: the first that still holds,
    else the expired one that ended last, so that the report says the finding counts again.
    A renewal appended below an expired waiver used to be shadowed by it. ``waiver_names``:
    the other rule ids that name a rule's findings (:meth:`Rule.waiver_names`)."""
    result = []
    for finding in findings:
        names = (waiver_names or {}).get(finding.rule_id, frozenset())
        covering = [w for w in waivers if w.covers(finding, snapshot, names)]
        holding = (w for w in covering if today <= w.expires)
        waiver = next(holding, max(covering, key=lambda w: w.expires, default=None))
        if waiver is not None:
            applied = AppliedWaiver(
                reason=waiver.reason,
                expires=waiver.expires,
                ticket=waiver.ticket,
                expired=today > waiver.expires,
            )
            finding = finding.model_copy(update={"waiver": applied})
        else:
            finding = _unapplied_for_doubt(finding, snapshot, waivers, today, names)
        result.append(finding)
    return result


def _unapplied_for_doubt(
    finding: Finding,
    snapshot: HostSnapshot,
    waivers: Sequence[Waiver],
    today: date,
    names: Set[str],
) -> Finding:
    """``finding``, saying so when a waiver in force would cover it but for a fact the
    listing did not show (QA: a `family: ipv4` waiver written for ss hosts never applied
    on netstat hosts, and the night exited 1 with no reason given)."""
    socket = finding.socket
    if socket is None:
        return finding
    for waiver in waivers:
        if today <= waiver.expires and waiver.covers(finding, snapshot, names, Lean.REPORT):
            facts = unshown_facts(socket, () if waiver.match is None else (waiver.match,))
            note = (
                f" Not waived: the waiver of {waiver.rule!r} ({waiver.reason}) matches on "
                f"{facts}, which the listing does not show."
            )
            return finding.model_copy(update={"message": finding.message + note})
    return finding
