"""Parser benchmark: fleetaudit vs jc vs a bare split+dict loop, on 200,000 socket lines.

Run:  .venv/bin/pip install -e '.[bench]' && .venv/bin/python bench/parse.py [--lines N]

Everything is measured in the same run (these machines are noisy), best of ``--repeat``:

* parse step, in process: ``fleetaudit.parse`` vs a loop that only splits each line and
  builds a dict of its columns (the floor any parser pays) vs ``jc.parse``;
* whole command, as a user runs it: ``fleetaudit parse FILE --format json`` vs
  ``jc --ss < FILE`` / ``jc --netstat < FILE``: wall time, and peak RSS of the child.
  Children are started from a small helper process, because a child's peak RSS counts the
  memory it inherited from its parent before exec.

Prints ratios against the baselines; targets: whole command >= 5x faster than jc, parse step
within 3x of the floor, peak RSS below jc's.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

SS_HEADER = "Netid State  Recv-Q Send-Q Local Address:Port Peer Address:PortProcess"
NETSTAT_HEADER = (
    "Active Internet connections (servers and established)\n"
    "Proto Recv-Q Send-Q Local Address           Foreign Address         State       "
    "PID/Program name    "
)
NAMES = ["nginx", "sshd", "mysqld", "java", "redis-server", "python3", "postgres", "node"]


def _ip4(rng: random.Random) -> str:
    return f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(256)}"


def ss_lines(count: int, rng: random.Random) -> str:
    """``ss -tunap`` of one busy host: 20% listeners, IPv4 and IPv6 connections from its few
    own addresses to many peers, sockets shared by up to three processes."""
    own_v4 = [_ip4(rng) for _ in range(4)]
    own_v6 = [f"[2001:db8::{i:x}]" for i in range(1, 5)]
    out = [SS_HEADER]
    for _ in range(count):
        name, pid = rng.choice(NAMES), rng.randrange(100, 99999)
        holders = range(rng.choice((1, 1, 2, 3)))
        users = ",".join(f'("{name}",pid={pid + i},fd={rng.randrange(3, 200)})' for i in holders)
        queues = f"{rng.randrange(0, 9999):<6} {rng.randrange(0, 9999):<6}"
        if rng.random() < 0.2:
            state, local, peer = "LISTEN", f"0.0.0.0:{rng.randrange(1, 65535)}", "0.0.0.0:*"
            queues = f"{rng.randrange(0, 5):<6} {rng.choice((128, 511, 4096)):<6}"
        elif rng.random() < 0.5:
            state = "ESTAB"
            local = f"{rng.choice(own_v6)}:{rng.choice((443, 8443, 22))}"
            peer = f"[2001:db8:1::{rng.randrange(1, 65535):x}]:{rng.randrange(1024, 65535)}"
        else:
            state = "ESTAB"
            local = f"{rng.choice(own_v4)}:{rng.choice((443, 80, 22))}"
            peer = f"{_ip4(rng)}:{rng.randrange(1024, 65535)}"
        out.append(f"tcp   {state:<6} {queues} {local:>40} {peer:>40} users:({users})")
    return "\n".join(out) + "\n"


def netstat_lines(count: int, rng: random.Random) -> str:
    """``netstat -tunap`` of one busy host: 20% listeners, the rest established."""
    own_v4 = [_ip4(rng) for _ in range(4)]
    out = [NETSTAT_HEADER]
    for _ in range(count):
        program = f"{rng.randrange(100, 99999)}/{rng.choice(NAMES)}"
        if rng.random() < 0.2:
            local = f"0.0.0.0:{rng.randrange(1, 65535)}"
            row = f"tcp        0      0 {local:<23} {'0.0.0.0:*':<23} {'LISTEN':<11} {program}"
        else:
            local = f"{rng.choice(own_v4)}:{rng.choice((443, 80, 22))}"
            peer = f"{_ip4(rng)}:{rng.randrange(1024, 65535)}"
            queues = f"{rng.randrange(0, 9999):>6} {rng.randrange(0, 9999):>6}"
            row = f"tcp   {queues} {local:<23} {peer:<23} ESTABLISHED {program}"
        out.append(row)
    return "\n".join(out) + "\n"


def split_dict_floor(text: str) -> int:
    """What any parser must at least do: split each line and name its columns."""
    keys = ("netid", "state", "recv_q", "send_q", "local", "peer", "process")
    rows = [dict(zip(keys, line.split(None, 6), strict=False)) for line in text.splitlines()]
    return len(rows)


def best_of(repeat: int, work: Callable[[], object]) -> float:
    """Fastest of ``repeat`` runs, each starting with no garbage left by the previous one
    (otherwise a run pays for collecting its predecessor's objects)."""
    times = []
    for _ in range(repeat):
        gc.collect()
        started = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - started)
        del result
    return min(times)


def measure_child(argv: list[str], stdin_path: str | None) -> tuple[float, int]:
    """Wall seconds and peak RSS (KiB) of one child, measured from a small helper process."""
    helper = [sys.executable, __file__, "--measure", json.dumps([argv, stdin_path])]
    done = subprocess.run(helper, capture_output=True, text=True, check=True)
    elapsed, rss = done.stdout.split()
    return float(elapsed), int(rss)


def _measure(spec: str) -> None:
    argv, stdin_path = json.loads(spec)
    with open(stdin_path or os.devnull, "rb") as stdin:
        started = time.perf_counter()
        child = subprocess.Popen(argv, stdin=stdin, stdout=subprocess.DEVNULL)
        _, status, usage = os.wait4(child.pid, 0)
        elapsed = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"{' '.join(argv)} failed")
    print(elapsed, usage.ru_maxrss)


def bench_tool(tool: str, text: str, tmp: Path, repeat: int) -> dict[str, float]:
    import jc

    from fleetaudit.model.enums import Tool
    from fleetaudit.parse import parse_capture

    fleet_tool = Tool(tool)
    _, result = parse_capture(text, tool=fleet_tool)
    assert not result.errors, result.errors[:3]
    count = len(result.sockets)
    del result
    path = tmp / f"{tool}.txt"
    path.write_text(text)
    bin_dir = Path(sys.executable).parent
    ours_argv = [str(bin_dir / "fleetaudit"), "parse", str(path), "--format", "json"]
    ours_cmd = min((measure_child(ours_argv, None) for _ in range(repeat)), key=lambda r: r[0])
    jc_cmd = measure_child([str(bin_dir / "jc"), f"--{tool}"], str(path))
    return {
        "sockets": count,
        "ours_step": best_of(repeat, lambda: parse_capture(text, tool=fleet_tool)),
        "floor_step": best_of(repeat, lambda: split_dict_floor(text)),
        "jc_step": best_of(1, lambda: jc.parse(tool, text, quiet=True)),
        "ours_cmd": ours_cmd[0],
        "ours_rss": ours_cmd[1] / 1024,
        "jc_cmd": jc_cmd[0],
        "jc_rss": jc_cmd[1] / 1024,
    }


def report(tool: str, r: dict[str, float]) -> None:
    print(f"\n{tool}: {int(r['sockets']):,} sockets")
    print(
        f"  parse step  fleetaudit {r['ours_step']:.3f}s  split+dict floor "
        f"{r['floor_step']:.3f}s  jc.parse {r['jc_step']:.3f}s"
    )
    print(
        f"              fleetaudit/floor {r['ours_step'] / r['floor_step']:.2f}x (target <= 3)"
        f"  jc/fleetaudit {r['jc_step'] / r['ours_step']:.2f}x"
    )
    print(
        f"  command     fleetaudit parse --format json {r['ours_cmd']:.2f}s "
        f"{r['ours_rss']:.0f} MiB  jc --{tool} {r['jc_cmd']:.2f}s {r['jc_rss']:.0f} MiB"
    )
    print(
        f"              jc/fleetaudit time {r['jc_cmd'] / r['ours_cmd']:.2f}x (target >= 5)"
        f"  fleetaudit/jc RSS {r['ours_rss'] / r['jc_rss']:.2f} (target < 1)"
    )


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--measure":
        _measure(sys.argv[2])
        return
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--lines", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    rng = random.Random(4)  # fixed seed: the same input every run
    with tempfile.TemporaryDirectory(prefix="fleetaudit-bench-") as tmp:
        for tool, make in (("ss", ss_lines), ("netstat", netstat_lines)):
            report(tool, bench_tool(tool, make(args.lines, rng), Path(tmp), args.repeat))


if __name__ == "__main__":
    main()
