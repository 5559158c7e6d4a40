"""Run one command and report its wall time and rusage (run as `python3 -I -S measure.py`).

    python3 -I -S measure.py RESULT.json STDOUT STDERR TIMEOUT -- CMD [ARG...]

A small, separate process on purpose: a child's ru_maxrss includes the memory of the
process that forked it (up to exec), so the benchmark (which holds the lab's state) never
forks the measured command itself. This helper is ~9 MB; that is the floor of any RSS
it reports. CPU and RSS come from os.wait4 on the command: user+sys of the command and
of every descendant it waited for; ru_maxrss is the largest single process among them.
On timeout the command's process group (started by this helper, id = the child's PID) is
killed and "timed_out" is true.
"""

import json
import os
import signal
import sys
import time


def main() -> int:
    result, out, err, timeout = sys.argv[1:5]
    assert sys.argv[5] == "--"
    cmd = sys.argv[6:]
    t0 = time.monotonic()
    pid = os.fork()
    if pid == 0:
        try:
            os.setsid()
            fd_out = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            fd_err = os.open(err, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            os.dup2(fd_out, 1)
            os.dup2(fd_err, 2)
            fd_in = os.open(os.devnull, os.O_RDONLY)
            os.dup2(fd_in, 0)
            os.execvp(cmd[0], cmd)
        finally:
            os._exit(127)
    timed_out = []

    def on_alarm(*_):
        timed_out.append(1)
        try:
            os.killpg(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, float(timeout))
    _, status, ru = os.wait4(pid, 0)
    wall = time.monotonic() - t0
    signal.setitimer(signal.ITIMER_REAL, 0)
    with open(result, "w") as f:
        json.dump(
            {
                "cmd": cmd,
                "wall_s": wall,
                "user_s": ru.ru_utime,
                "sys_s": ru.ru_stime,
                "maxrss_kib": ru.ru_maxrss,
                "exit": os.waitstatus_to_exitcode(status),
                "timed_out": bool(timed_out),
            },
            f,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
