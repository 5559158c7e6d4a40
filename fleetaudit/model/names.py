"""Process names as the tools print them, and the program behind them.

Neither tool prints the program's name whole and unaltered:

* ``ss`` prints the kernel's comm, cut to 15 characters: ``systemd-resolved`` appears as
  ``systemd-resolve``.
* ``netstat`` prints the start of the command line, cut so that ``PID/name`` fits 19
  characters. Daemons that rewrite their command line therefore appear as
  ``nginx: master``, ``sshd: /usr/sbi`` or ``redis-server 1`` (``redis-server
  127.0.0.1:6379`` cut after one digit of its address; more or fewer with another PID).
  net-tools since 2.10 drops the directory of an absolute ``argv[0]`` only, so a relative
  one stays whole: dovecot's ``imap-login`` appears as ``dovecot/imap-`` (busybox prints
  the base name, ``imap-login``). Worker processes that title themselves in parentheses
  appear that way: squid's ``(squid-1)``, ``(squid-coord-3)`` and ``(pinger)``, and cut:
  ``(squid-coord-``.
* Both widths are bytes: a name in another script is cut in the middle of a character,
  which reads as U+FFFD.

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
"""The longest comm, in bytes, the kernel keeps (TASK_COMM_LEN - 1); ss prints it cut there."""
NETSTAT_FIELD = 19
"""Width of netstat's ``PID/Program name`` column, in bytes."""
_REWRITTEN_SEPARATORS = frozenset(" :")
_FIRST_WORD = re.compile(r"[^ :]*")
_WORKER_TITLE = re.compile(r"\(([^()/]+?)(?:-coord)?(?:-\d*)?(\)|$)")
"""``(squid-1)``, ``(squid-coord-3)`` (squid's SMP coordinator), ``(pinger)``: group 1 is the
program, group 2 the closing parenthesis (empty when netstat cut the title:
``(squid-coord-``). Only a number (or ``-coord-`` and a number) is a kid's suffix:
``(nginx-proxy-1)`` names nginx-proxy."""
_DIRECTORIES = re.compile(r"(?:[\w.+@-]+/)+")
"""The directories of a relative ``argv[0]`` (``dovecot/``, ``venv/bin/``)."""
_CUT_CHARACTER = "\ufffd"


def stands_for(printed: str, pid: int | None, program: str, comm: bool = False) -> bool:
    """True when ``printed`` (with the tool's ``pid``) is what a tool prints for
    ``program``: equal, a rewritten command line that starts with it (``nginx: master``),
    a worker title or relative ``argv[0]`` naming it (``(squid-1)``, ``dovecot/imap-login``),
    or a name cut at the tool's width that ``program`` continues (``systemd-resolve``).
    ``comm``: ``printed`` is a comm (see :func:`may_be_cut`)."""
    if printed == program:
        return True
    worker = _WORKER_TITLE.fullmatch(printed)
    if worker is not None and (worker[2] or worker.end(1) < len(printed)):
        return worker[1] == program  # closed, or cut after the program: it is whole
    name = worker[1] if worker is not None else _without_directories(printed)
    if name == program:
        return True
    if name.startswith(program):
        return name[len(program)] in _REWRITTEN_SEPARATORS
    stem = name.rstrip(_CUT_CHARACTER)
    return bool(stem) and program.startswith(stem) and may_be_cut(printed, pid, comm)


def _unwrapped(printed: str) -> str:
    """The printed name without the wrapping of a worker's title (``(squid-1)``) or the
    directory of a relative ``argv[0]`` (``dovecot/imap-``)."""
    worker = _WORKER_TITLE.fullmatch(printed)
    if worker is not None:
        return worker[1]
    return _without_directories(printed)


def _without_directories(printed: str) -> str:
    directory = _DIRECTORIES.match(printed)
    if directory is None or printed[directory.end() :][:1] in ("", " ", ":"):
        return printed
    return printed[directory.end() :]


def may_be_cut(printed: str, pid: int | None, comm: bool = False) -> bool:
    """Whether ``printed`` may be a longer name cut at the tool's width: ss's 15-byte comm
    (or a name ending in the replacement character), or netstat's 19-character
    ``PID/name`` field, where the cut moves with the PID's length. A ``comm`` (printed by
    ss, or read from /proc for netstat) is whole below 15 bytes: netstat's width is no
    limit there (QA: the comm ``node_exporter`` of PID 12345 stood for a rule's
    ``node_exporter_custom``)."""
    if printed.endswith(_CUT_CHARACTER) or _bytes(printed) == COMM_LENGTH:
        return True
    # netstat's parser strips the padding, so a name cut just after a space is one shorter.
    return not comm and pid is not None and _bytes(f"{pid}/{printed}") >= NETSTAT_FIELD - 1


def _bytes(text: str) -> int:
    return len(text.encode("utf-8", "replace"))


def program_name(printed: str) -> str:
    """The printed name up to its first space or colon (``nginx`` for ``nginx: master``,
    ``redis-server`` for ``redis-server 1``), without a worker title's parentheses or a
    relative path (``squid`` for ``(squid-1)``): what stays the same when the program
    restarts with another PID. Only for identities: display keeps the name as printed."""
    name = _unwrapped(printed)
    head = _FIRST_WORD.match(name)
    return head[0] if head and head[0] else name
