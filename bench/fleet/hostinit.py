"""PID 1 of one lab host (runs inside the host's network, PID and mount namespaces).

Started by lab.py as::

    ip netns exec fa-hNNNN unshare --pid --fork --kill-child=SIGKILL --mount-proc \
        python3 -I -S hostinit.py ADDRESS FLAGS SSHD_CONFIG HOST_KEY

FLAGS is a comma-separated list: ``mysqld-any`` (mysqld on 0.0.0.0:3306, off-policy) or
``mysqld-lo`` (on 127.0.0.1:3306), ``backlog`` (app-worker on 0.0.0.0:8080 with backlog 4,
never accepting, 10 clients connected: Recv-Q 5 / Send-Q 4) or ``app`` (the same port with
backlog 128 and no clients).

Every listener lives in its own forked child whose name (``/proc/PID/comm``, which is what
``ss -p`` prints) is set to the service it stands for: ``postgres``, ``mysqld``,
``app-worker``. Then sshd is started in the foreground (``-D``); this process reaps every
child and exits when sshd does, and on SIGTERM. When it exits the kernel kills everything
else in the PID namespace.
"""

from __future__ import annotations

import os
import signal
import socket
import sys
import time


def _name(comm: str) -> None:
    with open("/proc/self/comm", "w") as f:  # the PID namespace's own /proc
        f.write(comm)


def _hold(comm: str, socks: list[socket.socket]) -> int:
    """Fork a child named ``comm`` that keeps ``socks`` open until it is killed."""
    pid = os.fork()
    if pid == 0:
        try:
            _name(comm)
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            for _ in range(10**9):  # bounded: sleeps until killed
                signal.pause()
        finally:
            os._exit(0)
    for s in socks:
        s.close()  # the child holds them now: only it shows in ss -p
    return pid


def _listener(address: str, port: int, backlog: int) -> socket.socket:
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((address, port))
    s.listen(backlog)
    return s


def main() -> int:
    address, flags_text, sshd_config, host_key = sys.argv[1:5]
    flags = set(flags_text.split(",")) if flags_text else set()
    _name("fa-init")
    # SIGTERM: leave; as PID 1 leaving makes the kernel kill the whole namespace.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))

    _hold("postgres", [_listener("127.0.0.1", 5432, 128)])
    if "mysqld-any" in flags:
        _hold("mysqld", [_listener("0.0.0.0", 3306, 128)])
    elif "mysqld-lo" in flags:
        _hold("mysqld", [_listener("127.0.0.1", 3306, 128)])
    if "backlog" in flags:
        lsock = _listener("0.0.0.0", 8080, 4)
        clients = []
        for _ in range(10):  # 10 clients: 5 fill the queue (backlog + 1), 5 stay in SYN-SENT
            c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            c.setblocking(False)
            c.connect_ex((address, 8080))
            clients.append(c)
        deadline = time.monotonic() + 5  # wait (bounded) until the queue holds 5
        while time.monotonic() < deadline:
            done = sum(
                1
                for c in clients
                if c.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0 and _connected(c)
            )
            if done >= 5:
                break
            time.sleep(0.02)
        _hold("app-worker", [lsock, *clients])
    elif "app" in flags:
        _hold("app-worker", [_listener("0.0.0.0", 8080, 128)])

    sshd = os.posix_spawn(
        "/usr/sbin/sshd",
        [
            "/usr/sbin/sshd",
            "-D",
            "-e",
            "-f",
            sshd_config,
            "-h",
            host_key,
            "-o",
            f"ListenAddress={address}:22",
        ],
        os.environ,
    )
    for _ in range(10**9):  # PID 1: reap every child; leave when sshd is gone
        try:
            pid, _status = os.wait()
        except InterruptedError:
            continue
        except ChildProcessError:
            return 1
        if pid == sshd:
            return 1
    return 1


def _connected(c: socket.socket) -> bool:
    try:
        c.getpeername()
        return True
    except OSError:
        return False


if __name__ == "__main__":
    sys.exit(main())
