"""The command catalogue: the only shell text fleetaudit ever sends to a host.

Each command is a constant. Nothing from the inventory, the policy or the remote side is
ever interpolated into it; the per-host choice (plain or through ``sudo -n``) is a choice
between two constants, not string building.

One exec per host: the script finds the best tool itself (``ss``, else ``netstat``, else
``/proc/net``), states what it found in a few ``@@`` header lines, then prints the tool's
output after ``@@output``. Starting one shell per command and one session per probe costs a
round trip each; a fleet audit pays that thousands of times.

Header lines (each optional except ``@@fleetaudit`` and ``@@output``)::

    @@fleetaudit 1
    @@uid 1000
    @@tool ss|netstat|proc
    @@command ss -tuanpe       (the listing command line, for ss and netstat)
    @@privilege root|unprivileged
    @@sudo-refused <first line of sudo's complaint>
    @@ListenOverflows N        (from /proc/net/netstat, when readable: kernel counters of
    @@ListenDrops N             connections dropped at a full accept queue)
    @@output
    <tool output>
"""

from __future__ import annotations

# NOTE: the SSH transport has the login shell start /bin/sh and feeds it the script on stdin
# (fleetaudit.transport.ssh.LOGIN_SHELL_COMMAND), so it is POSIX sh only (dash, bash,
# busybox ash, ksh; zsh, as a /bin/sh, in its sh emulation, without which it would not
# split `$values` into words): no bashisms, no `local`, no arrays. Shell builtins where
# they will do (the uid from /proc/self/status, the TcpExt counters paired name by value
# with `set --`): every process started costs each audited host, thousands of times a
# night, and the listing tool is the only one that has to run.
# `sudo -n -l CMD` asks whether CMD may run without a password without running it, and
# honours sudoers rules that allow exactly one command line (least privilege).
# netstat takes only the options its usage text offers: busybox may be built without -p
# (and then rejects the whole command line), and old net-tools without -W. net-tools and
# toybox (Android, some embedded images) cut IPv6 addresses without -W; busybox never does,
# so -W (there: padding only) is not asked of it.
# /proc/net: a table that exists but cannot be read fails the listing (exit 1, named on
# stderr): skipping it would drop its sockets without a word. tcp and udp exist on every
# Linux; tcp6 and udp6 are absent when IPv6 is disabled, which is no failure.
_SCRIPT_TEMPLATE = r"""[ -z "${ZSH_VERSION-}" ] || emulate sh
LC_ALL=C; export LC_ALL
PATH="$PATH:/usr/sbin:/sbin:/usr/bin:/bin"; export PATH
echo "@@fleetaudit 1"
uid=
if [ -r /proc/self/status ]; then
  while read -r key real effective rest; do
    if [ "$key" = "Uid:" ]; then uid=$effective; break; fi
  done < /proc/self/status
fi
[ -n "$uid" ] || uid=$(id -u 2>/dev/null || echo unknown)
echo "@@uid $uid"
if [ -r /proc/net/netstat ]; then
  set -f
  while read -r names && read -r values; do
    case $names in TcpExt:*) ;; *) continue ;; esac
    set -- $values
    for name in $names; do
      case $name in ListenOverflows|ListenDrops) echo "@@$name $1" ;; esac
      shift
    done
    break
  done < /proc/net/netstat
  set +f
fi
if command -v ss >/dev/null 2>&1; then
  tool=ss; set -- ss -tuanpe
elif command -v netstat >/dev/null 2>&1; then
  tool=netstat
  usage=$(netstat --help 2>&1)
  flags=-tuan
  case $usage in *PID/[Pp]rogram*) flags=${flags}p ;; esac
  flags=${flags}e
  case $usage in *--wide*|*Toybox*) flags=${flags}W ;; esac
  set -- netstat "$flags"
else
  tool=proc
fi
echo "@@tool $tool"
[ "$tool" = proc ] || echo "@@command $*"
if [ "$tool" = proc ]; then
  echo "@@privilege unprivileged"
  echo "@@output"
  status=0
  for f in tcp tcp6 udp udp6; do
    if [ -r "/proc/net/$f" ]; then
      echo "==> /proc/net/$f <=="; cat "/proc/net/$f" || status=1
    elif [ -e "/proc/net/$f" ] || [ "$f" = tcp ] || [ "$f" = udp ]; then
      echo "cannot read /proc/net/$f" >&2; status=1
    fi
  done
  exit $status
fi
if [ "$uid" = 0 ]; then echo "@@privilege root"; echo "@@output"; exec "$@"; fi
%(become)s
echo "@@privilege unprivileged"
echo "@@output"
exec "$@"
"""

_BECOME = r"""if err=$(sudo -n -l "$@" 2>&1 >/dev/null); then
  echo "@@privilege root"; echo "@@output"; exec sudo -n "$@"
fi
echo "@@sudo-refused $(printf '%s' "$err" | head -n 1)"
"""

COLLECT: str = _SCRIPT_TEMPLATE % {"become": ":"}
"""List sockets as the login user."""

COLLECT_BECOME: str = _SCRIPT_TEMPLATE % {"become": _BECOME.rstrip("\n")}
"""List sockets through ``sudo -n`` when allowed, else as the login user (and say why)."""


def collect_command(become: bool) -> str:
    """The constant collection script for a host with or without ``become``."""
    return COLLECT_BECOME if become else COLLECT
