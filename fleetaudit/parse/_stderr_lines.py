"""Lines ss and netstat write on stderr, found mixed into a listing.

A capture taken with ``2>&1``, or over SSH from a login shell whose startup file runs
``exec 2>&1``, holds them among the socket lines. They hold no socket and are skipped, as
they would have gone to stderr. One of them says more: net-tools' notice that it ran
without root, which only a capture not taken as root can hold.
"""

from __future__ import annotations


def is_ss_warning(line: str) -> bool:
    """A line ss writes on stderr when it cannot find the cgroup2 mount for ``-e`` (in many
    containers and network namespaces), once per socket."""
    return line.startswith("Failed to ") and "cgroup2" in line


UNPRIVILEGED_NOTICES = (
    "(Not all processes could be identified, non-owned process info",
    "(No info could be read for ",
)
"""What net-tools' netstat writes on stderr when it runs without root: only root's capture
names every process, so a capture holding one is not root's, whatever the caller says."""
NOTICES = (
    *UNPRIVILEGED_NOTICES,
    " will not be shown, you would have to be root to see it all.)",
    "netstat: no support for ",
)
"""The starts of the lines net-tools' netstat writes on stderr."""


def is_netstat_notice(line: str) -> bool:
    """A line net-tools' netstat writes on stderr."""
    return line.startswith(NOTICES)


def ran_unprivileged(text: str) -> bool:
    """Whether a netstat capture holds net-tools' notice that it ran without root."""
    return any(_at_a_line_start(text, notice) for notice in UNPRIVILEGED_NOTICES)


def _at_a_line_start(text: str, needle: str) -> bool:
    """Whether ``needle`` starts a line of ``text`` (a process name cannot put it there)."""
    found = text.find(needle)
    while found > 0 and text[found - 1] != "\n":
        found = text.find(needle, found + 1)
    return found >= 0
