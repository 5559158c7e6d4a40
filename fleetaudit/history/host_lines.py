"""The lines of a diff that say what changed on one host: status, what it was compared
with, listeners new, removed, unseen or changed."""

from __future__ import annotations

from datetime import UTC, datetime

from fleetaudit.history.changes import HostChange

_REACH = {True: "IPv6 and IPv4", False: "IPv6 only"}


def host_lines(change: HostChange, files: bool) -> list[str]:
    """What changed on one host; ``files``: the diff is of two files, not of the history."""
    lines = []
    if change.status_before != change.status_after:
        before = change.status_before.value if change.status_before else "(absent)"
        after = change.status_after.value if change.status_after else "(absent)"
        lines.append(f"status {before} -> {after}")
    if (
        change.status_compared_with not in (None, change.compared_with)
        and change.status_compared_with_started_at is not None
    ):
        # The older run was stopped before finishing this host: "before" is from this run.
        lines.append(
            f"status compared with run {change.status_compared_with} of "
            f"{utc(change.status_compared_with_started_at)}, the last that finished it"
        )
    if change.compared_with is not None and change.compared_with_started_at is not None:
        # The listeners below are against that run, not the older one of the diff.
        lines.append(
            f"compared with run {change.compared_with} of "
            f"{utc(change.compared_with_started_at)}, the last in which it was audited "
            "with a whole listing"
        )
    if change.compared_with_nothing:
        lines.append(
            "not audited in the older run, and no earlier run that audited it was compared"
            + (" (a diff of files consults no history)" if files else "")
            + ": its findings all read as new"
        )
    if change.privilege_before is not None and change.privilege_after is not None:
        lines.append(
            f"audited as {change.privilege_before.value} -> {change.privilege_after.value}"
        )
    if change.unread_lines is not None:
        lines.append(
            "unreadable lines {} -> {}: the sockets on them were not judged".format(
                *change.unread_lines
            )
        )
    if change.unlisted_listeners:
        lines.append(
            f"its listing is incomplete: {len(change.unlisted_listeners)} listener(s) of the "
            "older run it does not show, not listed as removed"
        )
    if change.incomplete_before:
        lines.append("the older run's listing of it was incomplete: what it lacked reads as new")
    if change.owner_named_once:
        lines.append(
            f"{len(change.owner_named_once)} listener(s) whose owner only one run could name, "
            "not listed as removed and added"
        )
    lines += [
        f"~ {r.listener.proto} {r.listener.endpoint} {r.listener.processes}: "
        f"{_REACH[r.before]} -> {_REACH[r.after]}"
        for r in change.ipv4_reach_changed
    ]
    lines += [f"+ {k.proto} {k.endpoint} {k.processes}" for k in change.new_listeners]
    lines += [f"- {k.proto} {k.endpoint} {k.processes}" for k in change.removed_listeners]
    return lines


def utc(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
