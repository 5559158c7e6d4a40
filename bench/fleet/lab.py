"""A lab of N SSH hosts on this machine, one network + PID namespace each (needs root).

    sudo .venv/bin/python bench/fleet/lab.py up 100      # build 100 hosts
    sudo .venv/bin/python bench/fleet/lab.py status
    sudo .venv/bin/python bench/fleet/lab.py down        # remove exactly what up made

What ``up N`` builds (see README.md in this directory):

* bridge ``fa-br0`` in the root namespace, address 10.77.0.1/16;
* per host i (1..N): network namespace ``fa-hNNNN``, veth ``fa-vNNNN`` on the bridge whose
  peer is ``eth0`` inside the namespace with 10.77.X.Y/16 (X = 1 + (i-1)//250,
  Y = 1 + (i-1)%250), and ``lo`` up;
* inside it, ``unshare --pid --fork --kill-child=SIGKILL --mount-proc`` runs hostinit.py as
  PID 1 of the host's own PID namespace with its own /proc; it starts the listeners and
  a real OpenSSH sshd (one host key per host);
* in the work directory (default /tmp/fa-lab, ``--workdir`` or $FA_LAB_DIR): the client key
  (authorised for root), ``known_hosts`` (one line per host), ``inventory.yaml``
  (fleetaudit), ``inventory.ini`` (Ansible), ``hosts.txt`` (addresses), ``truth.json``,
  ``state.jsonl`` (every object created, appended *before* it is created) and ``hosts.log``.

``down`` reads state.jsonl and removes exactly those objects, also after a partial ``up``:
processes by recorded PID (checked against their recorded start time), veths, namespaces,
the bridge, the sysctls it raised (restored to the recorded values) and the work directory.

Limits raised (recorded and restored by ``down``): the root namespace's ARP table
(net.ipv4.neigh.default.gc_thresh1/2/3 to 2048/8192/16384, since the client talks to up to
1,000 neighbours and gc_thresh3 defaults to 1024) and this process's RLIMIT_NOFILE (soft to
hard). net.core.somaxconn is per network namespace; it is left at the kernel default (4096)
because no lab listener needs more than 128.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
BRIDGE = "fa-br0"
BRIDGE_ADDR = "10.77.0.1/16"
NET_PREFIX = "10.77."
MAX_HOSTS = 1000  # 4 * 250 addresses; the bridge takes at most 1024 ports
DEFAULT_WORKDIR = Path(os.environ.get("FA_LAB_DIR", "/tmp/fa-lab"))
PYTHON = "/usr/bin/python3"  # the hosts' listeners: the system python, stdlib only
SSHD = "/usr/sbin/sshd"
NEIGH_SYSCTLS = {
    "net.ipv4.neigh.default.gc_thresh1": 2048,
    "net.ipv4.neigh.default.gc_thresh2": 8192,
    "net.ipv4.neigh.default.gc_thresh3": 16384,
}
WAVE = 100  # hosts started per wave, each wave waited for before the next
WAVE_TIMEOUT = 120.0  # seconds for one wave to answer on port 22

SSHD_CONFIG = """\
# fleetaudit scale lab: one sshd per namespace; ListenAddress and HostKey come from -o/-h.
Port 22
PidFile none
UsePAM no
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
AuthorizedKeysFile {workdir}/authorized_keys
StrictModes no
UseDNS no
LogLevel ERROR
MaxStartups 1000:30:1000
X11Forwarding no
PrintMotd no
AcceptEnv LANG LC_*
Subsystem sftp internal-sftp
"""

# sh (inside `ip netns exec`, which gives it a private mount namespace, slave of ours):
# bind the lab's clean home over /root (a root shell start-up file that runs tools such as
# `pyenv init` costs CPU and a global lock per SSH login, which no real server pays), configure
# eth0/lo, then become unshare (same PID) which forks hostinit.py as PID 1 of a new PID
# namespace with its own /proc.
LAUNCH = (
    'mount --bind "$1" /root || exit 1; shift; '
    "printf 'addr add %s/16 dev eth0\\nlink set eth0 up\\nlink set lo up\\n' \"$1\" "
    "| ip -batch - || exit 1; "
    "exec unshare --pid --fork --kill-child=SIGKILL --mount-proc "
    f'{PYTHON} -I -S {HERE / "hostinit.py"} "$@"'
)


@dataclass(frozen=True)
class HostSpec:
    index: int

    @property
    def name(self) -> str:
        return f"h{self.index:04d}"

    @property
    def netns(self) -> str:
        return f"fa-h{self.index:04d}"

    @property
    def veth(self) -> str:
        return f"fa-v{self.index:04d}"

    @property
    def address(self) -> str:
        i = self.index - 1
        return f"{NET_PREFIX}{1 + i // 250}.{1 + i % 250}"

    @property
    def mysqld(self) -> str | None:
        return {0: "any", 1: "loopback"}.get(self.index % 3)

    @property
    def backlogged(self) -> bool:
        return self.index % 10 == 0

    @property
    def flags(self) -> str:
        flags = []
        if self.mysqld == "any":
            flags.append("mysqld-any")
        elif self.mysqld == "loopback":
            flags.append("mysqld-lo")
        flags.append("backlog" if self.backlogged else "app")
        return ",".join(flags)

    def truth(self) -> dict[str, object]:
        listeners = [
            {"proto": "tcp", "address": self.address, "port": 22, "process": "sshd"},
            {"proto": "tcp", "address": "127.0.0.1", "port": 5432, "process": "postgres"},
        ]
        violations = []
        if self.mysqld == "any":
            listeners.append(
                {"proto": "tcp", "address": "0.0.0.0", "port": 3306, "process": "mysqld"}
            )
            violations.append({"rule": "mysql-loopback", "port": 3306, "process": "mysqld"})
        elif self.mysqld == "loopback":
            listeners.append(
                {"proto": "tcp", "address": "127.0.0.1", "port": 3306, "process": "mysqld"}
            )
        app: dict[str, object] = {
            "proto": "tcp",
            "address": "0.0.0.0",
            "port": 8080,
            "process": "app-worker",
        }
        if self.backlogged:
            app.update(accept_queue=5, backlog_limit=4)
            violations.append({"rule": "listen-backlog", "port": 8080, "process": "app-worker"})
        else:
            app.update(backlog_limit=128)
        listeners.append(app)
        return {
            "address": self.address,
            "netns": self.netns,
            "groups": ["lab", "app"],
            "listeners": listeners,
            "violations": violations,
        }


def hosts_for(n: int) -> list[HostSpec]:
    if not 1 <= n <= MAX_HOSTS:
        raise SystemExit(f"N must be 1..{MAX_HOSTS}")
    return [HostSpec(i) for i in range(1, n + 1)]


def run(
    cmd: list[str], *, timeout: float = 60, input: str | None = None, check: bool = True
) -> str:
    """Run a command, bounded in time; its stdout."""
    proc = subprocess.run(cmd, input=input, capture_output=True, text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: exit {proc.returncode}: {proc.stderr.strip()[:500]}")
    return proc.stdout


def _start_time(pid: int) -> str | None:
    """Field 22 of /proc/PID/stat (start time): identifies a PID across reuse."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]


def _children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def raise_nofile() -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


@dataclass
class Lab:
    workdir: Path = DEFAULT_WORKDIR
    hosts: list[HostSpec] = field(default_factory=list)
    _launched: dict[str, int] = field(default_factory=dict)

    # --- paths -------------------------------------------------------------------------
    @property
    def state_file(self) -> Path:
        return self.workdir / "state.jsonl"

    @property
    def key(self) -> Path:
        return self.workdir / "client_ed25519"

    @property
    def known_hosts(self) -> Path:
        return self.workdir / "known_hosts"

    @property
    def inventory(self) -> Path:
        return self.workdir / "inventory.yaml"

    @property
    def ini(self) -> Path:
        return self.workdir / "inventory.ini"

    @property
    def truth_file(self) -> Path:
        return self.workdir / "truth.json"

    @property
    def hosts_txt(self) -> Path:
        return self.workdir / "hosts.txt"

    def _record(self, **entry: object) -> None:
        with self.state_file.open("a") as f:
            f.write(json.dumps(entry) + "\n")
            f.flush()
            os.fsync(f.fileno())

    # --- up ------------------------------------------------------------------------------
    def up(self, n: int) -> None:
        if os.geteuid() != 0:
            raise SystemExit("the lab needs root (namespaces, bridge, sshd)")
        specs = hosts_for(n)
        if self.state_file.exists():
            raise SystemExit(f"{self.state_file} exists: run `lab.py down` first")
        if (
            run(["ip", "-4", "route", "show", "root", "10.77.0.0/16"]).strip()
            or run(["ip", "-4", "addr", "show", "to", "10.77.0.0/16"]).strip()
        ) or run(["ip", "link", "show", BRIDGE], check=False).strip():
            raise SystemExit("10.77.0.0/16 is already routed or fa-br0 exists: not touching it")
        if not self.workdir.exists():
            self.workdir.mkdir(mode=0o700, parents=True)
            self._record(t="dir", path=str(self.workdir))
        else:
            self._record(t="existing-dir", path=str(self.workdir))
        raise_nofile()
        t0 = time.monotonic()
        host_keys = self._keys(specs)
        (self.workdir / "home").mkdir(mode=0o700, exist_ok=True)  # the hosts' /root
        (self.workdir / "sshd_config").write_text(SSHD_CONFIG.format(workdir=self.workdir))
        for key, value in NEIGH_SYSCTLS.items():
            old = Path("/proc/sys/" + key.replace(".", "/")).read_text().strip()
            if int(old) < value:
                self._record(t="sysctl", key=key, old=old)
                run(["sysctl", "-q", "-w", f"{key}={value}"])
        self._record(t="bridge", name=BRIDGE)
        run(["ip", "link", "add", BRIDGE, "type", "bridge"])
        run(["ip", "addr", "add", BRIDGE_ADDR, "dev", BRIDGE])
        run(["ip", "link", "set", BRIDGE, "up"])
        for start in range(0, len(specs), 50):  # namespaces + veths, 50 per ip -batch
            chunk = specs[start : start + 50]
            lines = []
            for s in chunk:
                self._record(t="netns", name=s.netns)
                self._record(t="veth", name=s.veth)
                lines += [
                    f"netns add {s.netns}",
                    f"link add {s.veth} type veth peer name eth0 netns {s.netns}",
                    f"link set {s.veth} master {BRIDGE} up",
                ]
            run(["ip", "-batch", "-"], input="\n".join(lines) + "\n", timeout=120)
        log = open(self.workdir / "hosts.log", "ab")
        try:
            for start in range(0, len(specs), WAVE):
                wave = specs[start : start + WAVE]
                for s in wave:
                    self._launch(s, host_keys[s.name], log)
                self._wait_ready(wave, WAVE_TIMEOUT)
                for s in wave:  # hostinit: PID 1 inside, a child of unshare out here
                    for child in _children(self._launched[s.name]):
                        self._record(t="init", pid=child, start=_start_time(child), netns=s.netns)
        finally:
            log.close()
        self.hosts = specs
        self._write_files(specs, self.workdir)
        print(
            f"lab: {n} hosts up in {time.monotonic() - t0:.1f}s ({self.workdir})", file=sys.stderr
        )

    def _keys(self, specs: list[HostSpec]) -> dict[str, str]:
        """Client key, authorized_keys, one host key per host, known_hosts."""
        import asyncssh  # the venv's; only the lab builder needs it

        client = asyncssh.generate_private_key("ssh-ed25519", comment="fleetaudit-lab")
        client.write_private_key(str(self.key))
        os.chmod(self.key, 0o600)
        (self.workdir / "authorized_keys").write_bytes(client.export_public_key())
        keydir = self.workdir / "hostkeys"
        keydir.mkdir(mode=0o700, exist_ok=True)
        host_keys: dict[str, str] = {}
        known: dict[str, str] = {}
        for s in specs:
            key = asyncssh.generate_private_key("ssh-ed25519")
            path = keydir / s.name
            key.write_private_key(str(path))
            os.chmod(path, 0o600)
            host_keys[s.name] = str(path)
            known[s.name] = key.export_public_key().decode().split()[1]
        (self.workdir / "hostkeys.json").write_text(json.dumps(known))
        return host_keys

    def _launch(self, s: HostSpec, host_key: str, log: object) -> None:
        proc = subprocess.Popen(
            [
                "ip",
                "netns",
                "exec",
                s.netns,
                "sh",
                "-c",
                LAUNCH,
                "sh",
                str(self.workdir / "home"),
                s.address,
                s.flags,
                str(self.workdir / "sshd_config"),
                host_key,
            ],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,  # type: ignore[arg-type]
            start_new_session=True,
            close_fds=True,
        )
        # Popen returned: the child exists, its start time identifies it from now on.
        self._record(t="pid", pid=proc.pid, start=_start_time(proc.pid), netns=s.netns)
        self._launched[s.name] = proc.pid
        proc.returncode = 0  # never waited for here: keep Popen.__del__ quiet

    def _wait_ready(self, wave: list[HostSpec], timeout: float) -> None:
        """Bounded wait until every host in ``wave`` accepts TCP on port 22."""
        pending = {s.address: s for s in wave}
        deadline = time.monotonic() + timeout
        while pending and time.monotonic() < deadline:
            sel = selectors.DefaultSelector()
            socks = []
            for addr in pending:
                c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                c.setblocking(False)
                c.connect_ex((addr, 22))
                sel.register(c, selectors.EVENT_WRITE, addr)
                socks.append(c)
            end = time.monotonic() + 1.0
            while time.monotonic() < end:
                for key, _ in sel.select(timeout=max(0.0, end - time.monotonic())):
                    c = key.fileobj
                    assert isinstance(c, socket.socket)
                    if c.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0:
                        pending.pop(key.data, None)
                    sel.unregister(c)
                if not sel.get_map():
                    break
            for c in socks:
                c.close()
            sel.close()
            if pending:
                time.sleep(0.2)
        if pending:
            names = ", ".join(sorted(s.name for s in pending.values())[:10])
            raise RuntimeError(
                f"{len(pending)} hosts not answering on :22 after {timeout}s: {names}"
            )

    # --- files ------------------------------------------------------------------------------
    def _write_files(self, specs: list[HostSpec], outdir: Path) -> None:
        write_files(self.workdir, specs, outdir)

    # --- down ------------------------------------------------------------------------------
    def down(self) -> None:
        if not self.state_file.exists():
            print(f"lab: nothing to remove ({self.state_file} does not exist)", file=sys.stderr)
            return
        entries = [
            json.loads(line) for line in self.state_file.read_text().splitlines() if line.strip()
        ]
        by = lambda t: [e for e in entries if e["t"] == t]  # noqa: E731
        # 1. processes: SIGTERM the recorded PIDs (unshare; --kill-child then SIGKILLs the
        #    namespace's PID 1 and the kernel kills the rest of that PID namespace).
        live: list[dict[str, object]] = []
        for e in by("pid"):
            pid = int(e["pid"])
            if e.get("start") is not None and _start_time(pid) == e["start"]:
                live.append(e)
        inits = [(int(e["pid"]), e["start"]) for e in by("init")]
        for e in live:
            pid = int(e["pid"])
            inits += [(c, _start_time(c)) for c in _children(pid)]
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and any(
            _start_time(int(e["pid"])) == e["start"] for e in live
        ):
            time.sleep(0.1)
        for e in live:  # still there after 20 s: SIGKILL, same PID check
            if _start_time(int(e["pid"])) == e["start"]:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(int(e["pid"]), signal.SIGKILL)
        for pid, start in inits:  # the namespaces' PID 1, if unshare did not take it along
            if start is not None and _start_time(pid) == start:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        # 2. veths (removing one end removes the pair), 3. namespaces, 4. the bridge.
        existing_links = {
            line.split(":", 2)[1].strip().split("@")[0]
            for line in run(["ip", "-o", "link", "show"]).splitlines()
            if line.count(":") >= 2
        }
        veths = [e["name"] for e in by("veth") if e["name"] in existing_links]
        for start in range(0, len(veths), 200):
            run(
                ["ip", "-force", "-batch", "-"],
                timeout=120,
                check=False,
                input="".join(f"link del {v}\n" for v in veths[start : start + 200]),
            )
        existing_ns = {
            line.split()[0] for line in run(["ip", "netns", "list"]).splitlines() if line.strip()
        }
        names = [e["name"] for e in by("netns") if e["name"] in existing_ns]
        for start in range(0, len(names), 200):
            run(
                ["ip", "-force", "-batch", "-"],
                timeout=120,
                check=False,
                input="".join(f"netns del {n}\n" for n in names[start : start + 200]),
            )
        for e in by("bridge"):
            if e["name"] in existing_links:
                run(["ip", "link", "del", str(e["name"])], check=False)
        # 5. sysctls back to what they were.
        for e in by("sysctl"):
            run(["sysctl", "-q", "-w", f"{e['key']}={e['old']}"], check=False)
        # 6. the work directory (only if up created it), else just what up wrote in it.
        dirs = by("dir")
        if dirs:
            shutil.rmtree(str(dirs[0]["path"]), ignore_errors=True)
        else:
            self.state_file.unlink()
        left = [n for n in run(["ip", "netns", "list"]).split() if n.startswith("fa-h")]
        print(
            f"lab: down: {len(live)} hosts stopped, {len(names)} namespaces removed"
            + (f"; still present: {left[:5]}" if left else ""),
            file=sys.stderr,
        )

    def load(self) -> Lab:
        """The lab that is up in ``workdir`` (for reuse)."""
        truth = json.loads(self.truth_file.read_text())
        self.hosts = [HostSpec(int(name[1:])) for name in truth["hosts"]]
        return self

    def subset(self, n: int) -> Path:
        """Inventory, known_hosts, INI, hosts.txt and truth for the first ``n`` hosts."""
        outdir = self.workdir / f"size-{n}"
        outdir.mkdir(exist_ok=True)
        write_files(self.workdir, self.hosts[:n], outdir)
        return outdir


def write_files(workdir: Path, specs: list[HostSpec], outdir: Path) -> None:
    known = json.loads((workdir / "hostkeys.json").read_text())
    key = workdir / "client_ed25519"
    kh = outdir / "known_hosts"
    kh.write_text("".join(f"{s.address} ssh-ed25519 {known[s.name]}\n" for s in specs))
    (outdir / "hosts.txt").write_text("".join(f"{s.address}\n" for s in specs))
    (outdir / "truth.json").write_text(
        json.dumps(
            {
                "hosts": {s.name: s.truth() for s in specs},
                "note": "listeners each host has; violations the default policy must report",
            },
            indent=1,
        )
    )
    inv = [
        "# fleetaudit scale lab (generated by bench/fleet/lab.py)",
        f"defaults: {{user: root, port: 22, key: {key}}}",
        "hosts:",
    ]
    inv += [
        f"  {s.name}: {{address: {s.address}, user: root, key: {key}, groups: [lab, app]}}"
        for s in specs
    ]
    (outdir / "inventory.yaml").write_text("\n".join(inv) + "\n")
    ini = ["# fleetaudit scale lab (generated by bench/fleet/lab.py)", "[lab]"]
    ini += [f"{s.name} ansible_host={s.address}" for s in specs]
    ini += [
        "",
        "[lab:vars]",
        "ansible_user=root",
        f"ansible_ssh_private_key_file={key}",
        f"ansible_ssh_common_args='-o UserKnownHostsFile={kh} -o StrictHostKeyChecking=yes'",
        "ansible_python_interpreter=/usr/bin/python3",
    ]
    (outdir / "inventory.ini").write_text("\n".join(ini) + "\n")


@contextlib.contextmanager
def lab(n: int, workdir: Path = DEFAULT_WORKDIR, *, reuse: bool = False) -> Iterator[Lab]:
    """``with lab(1000) as l:`` builds the lab and always takes it down again; with
    ``reuse=True`` an existing lab of at least ``n`` hosts is used and left up."""
    the_lab = Lab(workdir)
    if reuse and the_lab.truth_file.exists():
        the_lab.load()
        if len(the_lab.hosts) < n:
            raise SystemExit(f"the lab in {workdir} has {len(the_lab.hosts)} hosts, not {n}")
        yield the_lab
        return
    try:
        the_lab.up(n)
        yield the_lab
    finally:
        the_lab.down()


def status(workdir: Path) -> None:
    the_lab = Lab(workdir)
    if not the_lab.state_file.exists():
        print("no lab")
        return
    entries = [json.loads(x) for x in the_lab.state_file.read_text().splitlines() if x.strip()]
    pids = [e for e in entries if e["t"] == "pid"]
    alive = sum(1 for e in pids if _start_time(int(e["pid"])) == e["start"])
    ns = {x.split()[0] for x in run(["ip", "netns", "list"]).splitlines() if x.strip()}
    mine = sum(1 for e in entries if e["t"] == "netns" and e["name"] in ns)
    print(f"workdir {workdir}: {alive}/{len(pids)} host processes alive, {mine} namespaces")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--workdir", type=Path, default=DEFAULT_WORKDIR)
    sub = ap.add_subparsers(dest="cmd", required=True)
    up = sub.add_parser("up")
    up.add_argument("n", type=int)
    sub.add_parser("down")
    sub.add_parser("status")
    args = ap.parse_args(argv)
    the_lab = Lab(args.workdir)
    if args.cmd == "up":
        try:
            the_lab.up(args.n)
        except BaseException:
            print("lab: up failed; removing what it made", file=sys.stderr)
            the_lab.down()
            raise
    elif args.cmd == "down":
        the_lab.down()
    else:
        status(args.workdir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
