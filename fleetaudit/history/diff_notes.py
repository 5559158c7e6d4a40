"""The notes above a diff: what makes two runs differ besides the fleet (another policy,
another release, hosts the newer run did not audit)."""

from __future__ import annotations

from fleetaudit.history.diff import RunDiff


def release_note(diff: RunDiff) -> str | None:
    """Runs made by two releases differ by what they read differently (0.4.0 names
    the processes of hosts without ss by comm): on the upgrade night an unchanged listener
    read as renamed, its finding as resolved and new, and a finding the older release had
    missed as new; after a rollback, findings only the newer release sees as resolved
    (QA). The diff must say why, as it does for a policy."""
    before, after = diff.before_release, diff.after_release
    if before is None or after is None or before == after:
        return None
    return (
        f"made by different fleetaudit releases ({before} -> {after}): what the two read "
        "differently shows here as changes of the fleet, findings included (see the "
        "README's upgrade notes)"
    )


def policy_note(diff: RunDiff) -> str | None:
    """Findings judged by two policies differ by the policy too: a severity raised, a rule
    or waiver added. The diff must not pass that off as a change of the fleet."""
    if not diff.policies_differ:
        return None
    before, after = diff.before_policy_digest, diff.after_policy_digest
    if before is None or after is None:
        return (
            f"judged by policies named {diff.before_policy} and {diff.after_policy} (one run "
            "recorded no digest of its rules); findings may differ because the policy did"
        )
    return (
        f"judged by different policies: {diff.before_policy} (sha256 {before[:12]}) -> "
        f"{diff.after_policy} (sha256 {after[:12]}); findings may differ because the policy did"
    )


def absent_note(diff: RunDiff) -> str | None:
    """Hosts of the older run the newer one does not list: a diff of a --limit run read as
    if most of the fleet had vanished (QA), with no word on why."""
    absent = sum(1 for c in diff.hosts if c.status_before is not None and c.status_after is None)
    if not absent:
        return None
    return (
        f"{absent} host(s) of the older run are not in the newer one: it audited part of the "
        "fleet (--limit, --shard), or they left the inventory; nothing is known of them "
        "there, and their findings are not called resolved"
    )
