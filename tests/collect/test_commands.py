"""The collection script, run by a real /bin/sh on this machine.

The fallback tests hide ``ss`` (and ``netstat``) inside a private mount namespace, or put
busybox in netstat's place there, so they need root and ``unshare``; nothing outside that
namespace is touched.
"""

import os
import pwd
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from fleetaudit.collect.commands import (
    COLLECT,
    COLLECT_BECOME,
    COLLECT_BECOME_SAMPLED,
    COLLECT_SAMPLED,
    SCRIPTS,
    collect_command,
)
from fleetaudit.collect.reply import parse_reply
from fleetaudit.model import Family, Privilege, SocketState, Tool
from fleetaudit.parse import parse_capture
from fleetaudit.snapshot import build_snapshot
from fleetaudit.transport.ssh import LOGIN_SHELL_COMMAND
from tests.factories import captured


def _run(
    script: str,
    *,
    hide: tuple[str, ...] = (),
    replace: dict[str, str] | None = None,
    user: str | None = None,
    shell: str = "sh",
    path: str | None = None,
) -> str:
    """Run ``script`` in ``shell`` with the tools in ``hide`` made unusable and each tool in
    ``replace`` swapped for another binary (both by bind mounts in a private mount
    namespace), and ``path`` as PATH if given."""
    argv = [*shell.split(), "-c", script]
    sources = dict.fromkeys(hide, "/dev/null") | (replace or {})
    if sources:
        mounts = "; ".join(f"mount --bind {src} {shutil.which(t)}" for t, src in sources.items())
        argv = ["unshare", "--mount", "sh", "-c", f'{mounts}; exec {shell} -c "$0"', script]
    if user:
        argv = ["runuser", "-u", user, "--", *argv]
    env = None if path is None else {**os.environ, "PATH": path}
    done = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False, env=env)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_commands_are_constants_chosen_by_become_and_samples():
    assert collect_command(False) is COLLECT
    assert collect_command(True) is COLLECT_BECOME
    assert collect_command(False, counters=True) is COLLECT_SAMPLED
    assert collect_command(True, counters=True) is COLLECT_BECOME_SAMPLED
    assert "sudo -n" in COLLECT_BECOME and "sudo" not in COLLECT
    assert len(SCRIPTS) == 4


def test_script_is_posix_sh():
    for script in SCRIPTS:
        subprocess.run(["sh", "-n", "-c", script], check=True, timeout=10)


def test_a_one_sample_run_reads_no_kernel_counters():
    """They are compared across samples only; reading them costs the host ~1 ms (dash reads
    /proc/net/netstat a byte at a time)."""
    assert parse_reply(_run(COLLECT)).counters == {}
    assert "/proc/net/netstat" not in COLLECT and "/proc/net/netstat" not in COLLECT_BECOME


def _require(shell: str) -> None:
    if shutil.which(shell.split()[0]):
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"{shell} is not installed; CI must install it")
    pytest.skip(f"{shell} is not installed")


@pytest.mark.parametrize("shell", ["dash", "bash", "busybox sh", "zsh"])
def test_every_sh_gives_the_same_header(shell):
    """/bin/sh is dash, bash, busybox or (rarely) zsh; each must give the whole header (zsh,
    unless put in sh emulation, silently lost the kernel counters)."""
    _require(shell)
    reference = parse_reply(_run(COLLECT_SAMPLED))
    reply = parse_reply(_run(COLLECT_SAMPLED, shell=shell))
    assert (reply.tool, reply.privilege, reply.uid) == (
        reference.tool,
        reference.privilege,
        str(os.geteuid()),
    )
    if os.path.exists("/proc/net/netstat"):
        assert set(reply.counters) == {"ListenOverflows", "ListenDrops"}
    with open("/proc/sys/net/ipv4/ip_local_port_range") as kernel:
        low, high = map(int, kernel.read().split())
    assert reply.ephemeral == (low, high), "the host's own range, for the UDP client hint"


@pytest.mark.parametrize("login_shell", ["bash", "zsh", "busybox sh", "tcsh", "fish"])
def test_any_login_shell_runs_the_script_as_sshd_hands_it_over(login_shell):
    """sshd runs the command line as ``LOGIN_SHELL -c LINE``; the audit user's shell may be
    csh or fish, where the script itself is a syntax error (before, such a host failed
    with "the command printed nothing"). The line starts /bin/sh, which reads the script
    from stdin, so every shell gives the same reply."""
    _require(login_shell)
    with socket.socket() as listener:  # a socket to list, whatever else the machine runs
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        done = subprocess.run(
            [*login_shell.split(), "-c", LOGIN_SHELL_COMMAND],
            input=COLLECT,
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    assert done.returncode == 0, done.stderr
    reference, reply = parse_reply(_run(COLLECT)), parse_reply(done.stdout)
    assert (reply.tool, reply.privilege, reply.uid, reply.command) == (
        reference.tool,
        reference.privilege,
        reference.uid,
        reference.command,
    )
    assert parse_capture(reply.output, tool=reply.tool)[1].sockets


def test_prefers_ss_and_reports_root():
    if os.geteuid() != 0:
        pytest.skip("needs root")
    reply = parse_reply(_run(COLLECT))
    assert reply.tool is Tool.SS
    assert reply.command == "ss -tuanpe"
    assert reply.privilege is Privilege.ROOT
    assert reply.output.startswith("Netid")


def test_output_of_a_login_script_before_the_script_is_tolerated():
    # what a .bashrc that echoes, run by the login shell before our command, looks like
    reply = parse_reply(_run("echo 'Welcome to web1'; echo; echo '@@ not ours'; " + COLLECT))
    assert reply.uid == str(os.geteuid())
    assert reply.tool in (Tool.SS, Tool.NETSTAT, Tool.PROC)


needs_root_unshare = pytest.mark.skipif(
    os.geteuid() != 0 or not shutil.which("unshare"), reason="needs root and unshare"
)


@needs_root_unshare
def test_falls_back_to_netstat_when_ss_is_missing():
    reply = parse_reply(_run(COLLECT, hide=("ss",)))
    assert reply.tool is Tool.NETSTAT
    assert reply.command == "netstat -tuanpeW" and reply.wide  # net-tools offers -p and -W
    assert "Proto Recv-Q Send-Q" in reply.output


@needs_root_unshare
@pytest.mark.skipif(not shutil.which("busybox"), reason="needs busybox")
def test_busybox_netstat_without_p_still_lists_every_socket():
    """Debian's busybox is built without ``netstat -p`` and rejects a command line that has
    it: the script must ask only for what this netstat offers, or the host fails."""
    busybox = shutil.which("busybox")
    assert busybox
    usage = subprocess.run(
        [busybox, "netstat", "--help"], capture_output=True, text=True, timeout=30, check=False
    )
    assert "PID/" not in usage.stdout + usage.stderr, "this busybox has netstat -p"
    with (
        socket.create_server(("127.0.0.1", 0)) as v4,
        socket.create_server(("::1", 0), family=socket.AF_INET6) as v6,
    ):
        reply = parse_reply(_run(COLLECT, hide=("ss",), replace={"netstat": busybox}))
        assert reply.command == "netstat -tuane"
        ours = {
            (Family.IPV4, "127.0.0.1", v4.getsockname()[1]),
            (Family.IPV6, "::1", v6.getsockname()[1]),
        }
    assert reply.tool is Tool.NETSTAT
    header = reply.output.splitlines()[1]
    assert header.split()[:3] == ["Proto", "Recv-Q", "Send-Q"] and "PID" not in header
    _, listed = parse_capture(reply.output, tool=Tool.NETSTAT, privileged=True)
    assert not listed.errors
    listeners = {
        (s.family, s.local_address, s.local_port)
        for s in listed.sockets
        if s.state is SocketState.LISTEN
    }
    assert ours <= listeners
    assert not any(s.owner_known for s in listed.sockets)  # no -p: no owner claimed


@needs_root_unshare
@pytest.mark.skipif(not shutil.which("toybox"), reason="needs toybox")
def test_toybox_netstat_is_asked_for_whole_addresses():
    """toybox's netstat cuts IPv6 addresses to 23 columns like net-tools unless given -W,
    which its usage offers only as '-W  Wide display' (no --wide)."""
    toybox = shutil.which("toybox")
    assert toybox
    with (
        socket.create_server(("127.0.0.1", 0)) as v4,
        socket.create_server(("::1", 0), family=socket.AF_INET6) as v6,
    ):
        reply = parse_reply(_run(COLLECT, hide=("ss",), replace={"netstat": toybox}))
        ours = {
            (Family.IPV4, "127.0.0.1", v4.getsockname()[1]),
            (Family.IPV6, "::1", v6.getsockname()[1]),
        }
    assert (reply.tool, reply.command, reply.wide) == (Tool.NETSTAT, "netstat -tuanpeW", True)
    _, listed = parse_capture(reply.output, tool=Tool.NETSTAT, privileged=True, wide=reply.wide)
    assert not listed.errors
    listeners = {s for s in listed.sockets if s.state is SocketState.LISTEN}
    assert ours <= {(s.family, s.local_address, s.local_port) for s in listeners}
    mine = [s for s in listeners if s.local_port in {port for _, _, port in ours}]
    assert {p.pid for s in mine for p in s.processes} == {os.getpid()}


RETITLED = "sshd: /usr/sbin/sshd -D -f /etc/ssh/alt.conf [listener] 0 of 10-100 startups"
"""The title of an sshd given -f (a whole command line in argv[0], as sshd writes it)."""


@needs_root_unshare
@pytest.mark.parametrize("tool", ["toybox", "busybox"])
def test_netstat_names_a_retitled_process_by_its_comm_as_ss_does(tool, tmp_path):
    """QA: toybox (and busybox) netstat print what follows the last '/' of a command line,
    so an sshd started with `-f /etc/ssh/alt.conf` showed as `alt.conf [listener] ...`
    and a policy rule on sshd missed it; ss names it by its comm. The script reads every
    comm, and the snapshot names processes by them."""
    binary = shutil.which(tool)
    if binary is None:
        pytest.skip(f"needs {tool}")
    ready = tmp_path / "port"
    listener = (
        "import socket, sys, time; s = socket.create_server(('127.0.0.1', 0)); "
        "open(sys.argv[1], 'w').write(str(s.getsockname()[1])); time.sleep(60)"
    )
    server = subprocess.Popen(["bash", "-c", f'exec -a "{RETITLED}" "$0" -c "$1" "$2"',
                               sys.executable, listener, str(ready)])  # fmt: skip
    try:
        for _ in range(200):  # bounded: 20 s
            if ready.exists() and ready.read_text():
                break
            time.sleep(0.1)
        port = int(ready.read_text())
        comm = (Path("/proc") / str(server.pid) / "comm").read_text().rstrip("\n")
        reply = parse_reply(_run(COLLECT, hide=("ss",), replace={"netstat": binary}))
    finally:
        server.kill()
        server.wait(timeout=30)
    assert reply.comms[server.pid] == comm
    host = build_snapshot(captured(reply, "alpine1"))
    [ours] = [s for s in host.sockets if s.local_port == port]
    if "p" not in reply.command.split()[1]:
        assert not ours.processes  # Debian's busybox has no -p: nothing to name
        return
    _, listed = parse_capture(reply.output, tool=Tool.NETSTAT, privileged=True)
    [printed] = [s for s in listed.sockets if s.local_port == port]
    # what the tool printed; busybox cuts it to fit its column
    assert printed.processes[0].name.startswith("alt.conf [")
    assert [(p.name, p.pid) for p in ours.processes] == [(comm, server.pid)]


@needs_root_unshare
@pytest.mark.skipif(not shutil.which("busybox"), reason="needs busybox")
def test_runs_in_an_all_busybox_userland(tmp_path):
    """An Alpine-like host: busybox ash runs the script, every tool it finds first on PATH
    is a busybox applet, and there is no ss. The reply must be whole: uid, counters, a
    netstat listing that parses."""
    busybox = shutil.which("busybox")
    assert busybox
    subprocess.run([busybox, "--install", "-s", str(tmp_path)], check=True, timeout=30)
    assert (tmp_path / "netstat").is_symlink() and (tmp_path / "head").is_symlink()
    with socket.create_server(("::1", 0), family=socket.AF_INET6) as server:
        port = server.getsockname()[1]
        output = _run(COLLECT_SAMPLED, hide=("ss",), shell=f"{busybox} sh", path=str(tmp_path))
    reply = parse_reply(output)
    assert (reply.tool, reply.privilege, reply.uid) == (Tool.NETSTAT, Privilege.ROOT, "0")
    assert set(reply.counters) == {"ListenOverflows", "ListenDrops"}
    assert "PID" not in reply.output.splitlines()[1]  # busybox's netstat, not net-tools'
    _, listed = parse_capture(reply.output, tool=Tool.NETSTAT, privileged=True)
    assert not listed.errors
    [ours] = [s for s in listed.sockets if s.local_port == port]
    assert (ours.family, ours.local_address, ours.state) == (
        Family.IPV6,
        "::1",
        SocketState.LISTEN,
    )


@needs_root_unshare
def test_falls_back_to_proc_net_when_neither_exists():
    reply = parse_reply(_run(COLLECT, hide=("ss", "netstat")))
    assert reply.tool is Tool.PROC
    assert reply.command is None
    assert "==> /proc/net/tcp <==" in reply.output
    assert "==> /proc/net/udp6 <==" in reply.output


@needs_root_unshare
def test_become_without_sudo_rights_says_why_and_runs_unprivileged():
    reply = parse_reply(_run(COLLECT_BECOME, user="nobody"))
    assert reply.privilege is Privilege.UNPRIVILEGED
    assert reply.uid == str(pwd.getpwnam("nobody").pw_uid)  # read by the shell itself
    assert reply.sudo_refused  # the reason reaches the report
    assert reply.tool is Tool.SS


def _netstat_counters(namespace: str) -> dict[str, int]:
    text = subprocess.run(
        ["ip", "netns", "exec", namespace, "cat", "/proc/net/netstat"],
        capture_output=True, text=True, timeout=30, check=True,
    ).stdout  # fmt: skip
    names, values = [line.split() for line in text.splitlines() if line.startswith("TcpExt:")]
    return dict(zip(names[1:], map(int, values[1:]), strict=True))


_OVERFLOW = """
import socket, time
server = socket.socket(); server.bind(("127.0.0.1", 7001)); server.listen(0)
clients = []
for _ in range(6):
    c = socket.socket(); c.setblocking(False); c.connect_ex(("127.0.0.1", 7001)); clients.append(c)
time.sleep(1.5)  # the kernel retries the dropped handshakes meanwhile: more overflows
"""


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("ip"), reason="needs root and ip")
def test_reports_the_kernels_listen_overflow_counters():
    """The script reads TcpExt ListenOverflows/ListenDrops with shell builtins alone; in a
    namespace of our own, where a full accept queue made them non-zero, it must report
    exactly what the kernel says."""
    namespace = f"fa-ovf-{os.getpid()}"
    subprocess.run(["ip", "netns", "add", namespace], check=True, timeout=30)
    try:
        subprocess.run(["ip", "-n", namespace, "link", "set", "lo", "up"], check=True, timeout=30)
        subprocess.run(
            ["ip", "netns", "exec", namespace, "python3", "-c", _OVERFLOW], check=True, timeout=30
        )
        reply = parse_reply(
            subprocess.run(
                ["ip", "netns", "exec", namespace, "sh", "-c", COLLECT_SAMPLED],
                capture_output=True, text=True, timeout=30, check=True,
            ).stdout
        )  # fmt: skip
        kernel = _netstat_counters(namespace)
    finally:
        subprocess.run(["ip", "netns", "del", namespace], check=False, timeout=30)
    assert kernel["ListenOverflows"] > 0
    assert reply.counters == {name: kernel[name] for name in ("ListenOverflows", "ListenDrops")}
    assert reply.uid == "0"


@needs_root_unshare
def test_an_unreadable_proc_net_fails_the_listing_rather_than_listing_nothing():
    """Neither tool, and /proc/net not readable (a hardened or broken /proc): the script
    must fail and say why. Skipping the tables printed an empty listing, which read as a
    host that listens on nothing."""
    hide = "; ".join(f"mount --bind /dev/null {shutil.which(t)}" for t in ("ss", "netstat"))
    mounts = f"{hide}; mount -t tmpfs none /proc"
    done = subprocess.run(
        ["unshare", "--mount", "sh", "-c", f'{mounts}; exec sh -c "$0"', COLLECT],
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    assert done.returncode == 1
    assert "cannot read /proc/net/tcp" in done.stderr
    assert "==> /proc/net/" not in done.stdout
