"""Process names as the tools print them, and the program behind them.

Neither tool prints the program's name whole and unaltered:

* ``ss`` prints the kernel's comm, cut to 15 characters: ``systemd-resolved`` appears as
  ``systemd-resolve``.
* ``netstat`` prints the start of the command line, cut so that ``PID/name`` fits 19
  characters. Daemons that rewrite their command line therefore appear as
  ``nginx: master``, ``sshd: /usr/sbi`` or ``redis-server 1`` (``redis-server
  127.0.0.1:6379`` cut after one digit of its address; more or fewer with another PID).

A policy rule that says ``process: nginx`` means the program, so it must match all of these
(:func:`stands_for`), or a host audited through the netstat fallback would be judged by
different rules than one read with ss. Nothing here is a guess about the program: each case
is what a tool is known to print, and a name that merely starts with the rule's name
(``nginx-proxy`` for ``nginx``) never matches. Identities that must survive a restart
(finding fingerprints, listeners in a diff) use :func:`program_name`, because where netstat
cuts a command line moves with the length of the new PID.
"""

from __future__ import annotations

import re

COMM_LENGTH = 15
"""The longest comm the kernel keeps (TASK_COMM_LEN - 1); ss prints it cut there."""
NETSTAT_FIELD = 19
"""Width of netstat's ``PID/Program name`` column."""
_REWRITTEN_SEPARATORS = frozenset(" :")
_FIRST_WORD = re.compile(r"[^ :]*")


def stands_for(printed: str, pid: int | None, program: str) -> bool:
    """True when ``printed`` (with the tool's ``pid``) is what a tool prints for
    ``program``: equal, a rewritten command line that starts with it (``nginx: master``),
    or a name cut at the tool's width that ``program`` continues (``systemd-resolve``)."""
    if printed == program:
        return True
    if printed.startswith(program):
        return printed[len(program)] in _REWRITTEN_SEPARATORS
    return program.startswith(printed) and _cut_at_tool_width(printed, pid)


def _cut_at_tool_width(printed: str, pid: int | None) -> bool:
    if len(printed) == COMM_LENGTH:
        return True
    # netstat's parser strips the padding, so a name cut just after a space is one shorter.
    return pid is not None and len(f"{pid}/{printed}") >= NETSTAT_FIELD - 1


def program_name(printed: str) -> str:
    """The printed name up to its first space or colon (``nginx`` for ``nginx: master``,
    ``redis-server`` for ``redis-server 1``): what stays the same when the program restarts
    with another PID. Only for identities: display keeps the name as printed."""
    head = _FIRST_WORD.match(printed)
    return head[0] if head and head[0] else printed
