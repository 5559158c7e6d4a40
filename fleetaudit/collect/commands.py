"""The command catalogue: the only shell text fleetaudit ever sends to a host.

Each command is a constant. Nothing from the inventory, the policy or the remote side is
ever interpolated into it; the per-host choice (plain or through ``sudo -n``, and with or
without the kernel counters a run of several samples compares) is a choice between four
constants, not string building.

One exec per host: the script finds the best tool itself (``ss``, else ``netstat``, else
``/proc/net``), states what it found in a few ``@@`` header lines, then prints the tool's
output after ``@@output``. Starting one shell per command and one session per probe costs a
round trip each; a fleet audit pays that thousands of times.

Header lines (each optional except ``@@fleetaudit`` and ``@@output``)::

    @@fleetaudit 1
    @@uid 1000
    @@ssh-connection CLIENT_IP CLIENT_PORT SERVER_IP SERVER_PORT   ($SSH_CONNECTION, set by
                                the SSH server: this audit's own connection as the host
                                sees it, which a whole listing holds)
    @@tool ss|netstat|proc
    @@command ss -tuanpe       (the listing command line, for ss and netstat)
    @@sudo-command /usr/bin/ss -tuanpe   (with become: what sudo is asked to run as root)
    @@ephemeral LOW HIGH       (net.ipv4.ip_local_port_range, when readable: where the
                                kernel picks the port of a socket that binds none)
    @@comm PID NAME            (netstat only, one per process: its comm, the name ss
                                prints; netstat prints the command line, which a process
                                that retitles itself rewrites)
    @@privilege root|unprivileged
    @@sudo-refused <sudo's complaint: its last ``sudo:`` line, else its last line, else
                    which command line no sudoers rule allows>
    @@ListenOverflows N        (from /proc/net/netstat, when readable, in the scripts for
    @@ListenDrops N             --samples: kernel counters of connections dropped at a
                                full accept queue)
    @@output
    <tool output>

When sudo allowed the listing (``sudo -l``) but then refused to run it (``Defaults!ss
requiretty``), the (empty) output is followed by a second header, ``@@sudo-refused``,
``@@privilege unprivileged`` and ``@@output``, and the listing taken without privilege.
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
# honours sudoers rules that allow exactly one command line (least privilege). Both it and
# the run say `-u root`: without it sudo runs CMD as sudoers' runas_default, which may be
# another user, and the listing would pass for root's while seeing no other user's process.
# sudo is given the tool's full path (`command -v`): the path sudoers must name, reported
# in @@sudo-command for the advice, and the binary sudo runs whatever its secure_path says.
# `sudo -l` does not check everything the run does (requiretty per command): a run that
# sudo itself refused (exit 1, only `sudo:` lines on stderr, so the tool printed nothing;
# reply.py checks that too) falls back to the unprivileged listing, as a refused probe does.
# sudo may print warnings before its complaint: the reason is its last `sudo:` line, else
# its last line, read with builtins, cut to one bounded line by printf; `unable to resolve
# host` is only a warning (sudo goes on), never the reason.
# netstat takes only the options its usage text offers: busybox may be built without -p
# (and then rejects the whole command line), and old net-tools without -W. net-tools and
# toybox (Android, some embedded images) cut IPv6 addresses without -W; busybox never does,
# so -W (there: padding only) is not asked of it.
# The ephemeral port range is a sysctl file, which ends at the first byte for a read past
# offset 0: bash's `read` takes it whole, but dash, busybox and zsh read a byte at a time
# and get "3". Only then is it read by `cat` (one process, ~1 ms, on such hosts).
# netstat names a process by its command line: net-tools prints its start, cut to 19
# characters ("sshd: /usr/sb"), busybox and toybox the part after its last '/', which for a
# process that rewrote its title is a piece of its arguments ("sshd: /usr/sbin/sshd -f
# /etc/ssh/alt.conf [listener]" prints as "alt.conf [listener]"), so a rule naming the
# program missed it. Every process's comm (world-readable, read with a builtin, before the
# listing: a process started in between keeps netstat's name) gives the name ss would print.
# `read` stops at a newline, so a comm cannot forge a header line.
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
[ -z "${SSH_CONNECTION-}" ] || printf '@@ssh-connection %%s\n' "$SSH_CONNECTION"
range=/proc/sys/net/ipv4/ip_local_port_range
if [ -r $range ]; then
  high=
  read -r low high rest < $range || :
  if [ -z "$high" ]; then
    set -f; set -- $(cat $range 2>/dev/null); set +f
    low=${1-}; high=${2-}
  fi
  [ -z "$high" ] || echo "@@ephemeral $low $high"
fi
%(counters)s
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
if [ "$tool" = netstat ]; then
  for dir in /proc/[0-9]*; do
    comm=
    { IFS= read -r comm < "$dir/comm"; } 2>/dev/null || :
    [ -z "$comm" ] || printf '@@comm %%s %%s\n' "${dir#/proc/}" "$comm"
  done
fi
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

_BECOME = r"""tool_path=$(command -v "$1")
case $tool_path in /*) shift; set -- "$tool_path" "$@" ;; esac
echo "@@sudo-command $*"
if err=$(sudo -n -u root -l "$@" 2>&1 >/dev/null); then
  echo "@@privilege root"; echo "@@output"
  { err=$(sudo -n -u root "$@" 2>&1 >&3 3>&-); } 3>&1
  sudo_status=$?
  [ -z "$err" ] || printf '%s\n' "$err" >&2
  [ "$sudo_status" = 1 ] && [ -n "$err" ] || exit $sudo_status
  while IFS= read -r line; do
    case $line in ''|sudo:*) ;; *) exit 1 ;; esac
  done <<EOF
$err
EOF
fi
reason=; last=
while IFS= read -r line; do
  case $line in
    ''|'sudo: unable to resolve host'*) ;;
    sudo:*) reason=$line; last=$line ;;
    *) last=$line ;;
  esac
done <<EOF
$err
EOF
[ -n "$reason" ] || reason=$last
[ -n "$reason" ] || reason="no sudoers rule lets this user run $* as root without a password"
printf '@@sudo-refused %.300s\n' "$reason"
"""

# The counters are compared across the samples of one run, so a one-sample run (the
# default) does not read them: dash reads /proc/net/netstat a byte at a time, some 2,600
# reads and ~1 ms of the host's CPU per run.
_COUNTERS = r"""if [ -r /proc/net/netstat ]; then
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
fi"""

_PLAIN = {"become": ":", "counters": ":"}

COLLECT: str = _SCRIPT_TEMPLATE % _PLAIN
"""List sockets as the login user."""

COLLECT_BECOME: str = _SCRIPT_TEMPLATE % (_PLAIN | {"become": _BECOME.rstrip("\n")})
"""List sockets through ``sudo -n`` when allowed, else as the login user (and say why)."""

COLLECT_SAMPLED: str = _SCRIPT_TEMPLATE % (_PLAIN | {"counters": _COUNTERS})
""":data:`COLLECT` with the kernel's listen-drop counters, for runs of several samples."""

COLLECT_BECOME_SAMPLED: str = _SCRIPT_TEMPLATE % {
    "become": _BECOME.rstrip("\n"),
    "counters": _COUNTERS,
}
""":data:`COLLECT_BECOME` with the kernel's listen-drop counters."""

BECOME_SCRIPTS = frozenset({COLLECT_BECOME, COLLECT_BECOME_SAMPLED})
"""The scripts that try ``sudo -n``."""
SCRIPTS = frozenset({COLLECT, COLLECT_SAMPLED}) | BECOME_SCRIPTS
"""Every script fleetaudit sends."""


def collect_command(become: bool, counters: bool = False) -> str:
    """The constant collection script for a host: with or without ``become``, and with the
    kernel counters a run of several samples compares (``counters``)."""
    if become:
        return COLLECT_BECOME_SAMPLED if counters else COLLECT_BECOME
    return COLLECT_SAMPLED if counters else COLLECT
