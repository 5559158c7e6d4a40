"""Parser benchmark: fleetaudit vs jc vs a bare split+dict loop, on 200,000 socket lines.

Run:  .venv/bin/pip install -e '.[bench]' && .venv/bin/python bench/parse.py [--lines N]

Everything is measured in the same run (these machines are noisy), best of ``--repeat``:

* parse step, in process: ``fleetaudit.parse`` vs a loop that only splits each line and
  builds a dict of its columns (the floor any parser pays) vs ``jc.parse``;
* whole command, as a user runs it: ``fleetaudit parse FILE --format json`` vs
  ``jc --ss < FILE`` / ``jc --netstat < FILE``, wall time and peak RSS of the child.

Prints ratios against the baselines; targets: whole command >= 5x faster than jc, parse step
within 3x of the floor, peak RSS below jc's.
"""

from __future__ import annotations

import argparse
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


def ss_lines(count: int, rng: random.Random) -> str:
    out = [SS_HEADER]
    for _ in range(count):
        name, pid = rng.choice(NAMES), rng.randrange(100, 99999)
        users = ",".join(
            f'("{name}",pid={pid + i},fd={rng.randrange(3, 200)})' for i in range(rng.choice((1, 1, 2, 3)))
        )
        if rng.random() < 0.2:
            local, peer, state = f"0.0.0.0:{rng.randrange(1, 65535)}", "0.0.0.0:*", "LISTEN"
            queues = f"{rng.randrange(0, 5):<6} {rng.choice((128, 511, 4096)):<6}"
        elif rng.random() < 0.5:
            local = f"[2001:db8::{rng.randrange(1, 9999):x}]:{rng.randrange(1, 65535)}"
            peer = f"[2001:db8::{rng.randrange(1, 9999):x}]:{rng.randrange(1024, 65535)}"
            state, queues = "ESTAB", f"{rng.randrange(0, 9999):<6} {rng.randrange(0, 9999):<6}"
        else:
            local = f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(256)}:443"
            peer = f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(256)}:{rng.randrange(1024, 65535)}"
            state, queues = "ESTAB", f"{rng.randrange(0, 9999):<6} {rng.randrange(0, 9999):<6}"
        out.append(f"tcp   {state:<6} {queues} {local:>40} {peer:>40} users:({users})")
    return "\n".join(out) + "\n"


def netstat_lines(count: int, rng: random.Random) -> str:
    out = [NETSTAT_HEADER]
    for _ in range(count):
        program = f"{rng.randrange(100, 99999)}/{rng.choice(NAMES)}"
        if rng.random() < 0.2:
            row = f"tcp        0      0 0.0.0.0:{rng.randrange(1, 65535):<17} 0.0.0.0:*               LISTEN      {program}"
        else:
            local = f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(256)}:443"
            peer = f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(256)}:{rng.randrange(1024, 65535)}"
            row = f"tcp   {rng.randrange(0, 9999):>6} {rng.randrange(0, 9999):>6} {local:<23} {peer:<23} ESTABLISHED {program}"
        out.append(row)
    return "\n".join(out) + "\n"


def split_dict_floor(text: str) -> int:
    """What any parser must at least do: split each line and name its columns."""
    keys = ("netid", "state", "recv_q", "send_q", "local", "peer", "process")
    rows = [dict(zip(keys, line.split(None, 6), strict=False)) for line in text.splitlines()]
    return len(rows)


def best_of(repeat: int, work: Callable[[], object]) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return min(times)


def run_child(argv: list[str], stdin_path: Path | None) -> tuple[float, int]:
    """Wall seconds and peak RSS (KiB) of one child process."""
    stdin = stdin_path.open("rb") if stdin_path else subprocess.DEVNULL
    started = time.perf_counter()
    child = subprocess.Popen(argv, stdin=stdin, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    elapsed = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    if stdin_path:
        stdin.close()  # type: ignore[union-attr]
    if child.returncode not in (0,):
        sys.exit(f"{' '.join(argv)} failed with {child.returncode}")
    return elapsed, usage.ru_maxrss


def bench_tool(tool: str, text: str, tmp: Path, repeat: int) -> dict[str, float]:
    import jc

    from fleetaudit.model.enums import Tool
    from fleetaudit.parse import parse_capture

    fleet_tool = Tool(tool)
    _, result = parse_capture(text, tool=fleet_tool)
    assert not result.errors, result.errors[:3]
    ours = best_of(repeat, lambda: parse_capture(text, tool=fleet_tool))
    floor = best_of(repeat, lambda: split_dict_floor(text))
    jc_step = best_of(1, lambda: jc.parse(tool, text, quiet=True))
    path = tmp / f"{tool}.txt"
    path.write_text(text)
    bin_dir = Path(sys.executable).parent
    ours_cmd = min(
        (run_child([str(bin_dir / "fleetaudit"), "parse", str(path), "--format", "json"], None)
         for _ in range(repeat)),
        key=lambda r: r[0],
    )  # fmt: skip
    jc_cmd = run_child([str(bin_dir / "jc"), f"--{tool}"], path)
    return {
        "lines": len(result.sockets),
        "ours_step": ours,
        "floor_step": floor,
        "jc_step": jc_step,
        "ours_cmd": ours_cmd[0],
        "ours_rss": ours_cmd[1],
        "jc_cmd": jc_cmd[0],
        "jc_rss": jc_cmd[1],
    }


def report(tool: str, r: dict[str, float]) -> None:
    print(f"\n{tool}: {int(r['lines']):,} sockets")
    print(f"  parse step   fleetaudit {r['ours_step']:.3f}s   split+dict floor {r['floor_step']:.3f}s"
          f"   jc.parse {r['jc_step']:.3f}s")
    print(f"               fleetaudit / floor = {r['ours_step'] / r['floor_step']:.2f}x (target <= 3x);"
          f"  jc / fleetaudit = {r['jc_step'] / r['ours_step']:.1f}x")
    print(f"  command      fleetaudit parse --format json {r['ours_cmd']:.2f}s, {r['ours_rss'] / 1024:.0f} MiB"
          f"   jc --{tool} {r['jc_cmd']:.2f}s, {r['jc_rss'] / 1024:.0f} MiB")
    print(f"               jc / fleetaudit = {r['jc_cmd'] / r['ours_cmd']:.1f}x faster (target >= 5x);"
          f"  RSS fleetaudit / jc = {r['ours_rss'] / r['jc_rss']:.2f} (target < 1)")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    rng = random.Random(4)  # fixed seed: the same input every run
    with tempfile.TemporaryDirectory(prefix="fleetaudit-bench-") as tmp:
        for tool, make in (("ss", ss_lines), ("netstat", netstat_lines)):
            report(tool, bench_tool(tool, make(args.lines, rng), Path(tmp), args.repeat))


if __name__ == "__main__":
    main()
