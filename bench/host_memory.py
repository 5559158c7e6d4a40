"""One very busy host: what judging it costs in memory and time (a 200,000-socket listing).

Run:  .venv/bin/python bench/host_memory.py [--sockets N] [--repeat R]

A fleet run keeps every judged host (its sockets, for the report) until the report is
written, so what one socket costs after judging decides whether a run over a few load
balancers with half a million connections each fits in memory. Measured in the same run,
in fresh interpreters (these machines are noisy, and a process's peak RSS counts what it
inherited):

* retained: resident memory a judged snapshot keeps (after the listing text and the parser's
  records are freed), against the baseline of the parser's own records (a named tuple per
  socket, the cheapest typed record Python builds) for the same listing;
* whole command: ``fleetaudit check FILE --privileged`` (table and JSON report) against
  ``fleetaudit parse FILE --format json`` on the same file: wall time and peak RSS.

The listing is ``bench/parse.py``'s ``ss -tunap`` of a busy host (20% listeners, the rest
connections to many peers). Prints ratios; no issue sets a target for them. What they
stood at before sockets became slotted dataclasses is in the README's performance section.
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
from pathlib import Path

from parse import ss_lines  # bench/parse.py: the same generated listing


def _resident_mib() -> float:
    with open("/proc/self/statm", encoding="ascii") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _retained(path: str) -> None:
    """Child: resident MiB of the parser records, then of the judged snapshot, as JSON."""
    from fleetaudit.model.enums import HostStatus, Privilege, Tool
    from fleetaudit.model.host import HostSnapshot
    from fleetaudit.model.socket import Socket
    from fleetaudit.parse import parse_capture
    from fleetaudit.policy import evaluate, load_default_policy

    policy = load_default_policy()
    gc.collect()
    before = _resident_mib()
    text = Path(path).read_text(encoding="utf-8")
    _, parsed = parse_capture(text, tool=Tool.SS, privileged=True)
    del text
    gc.collect()
    records = _resident_mib() - before
    snapshot = HostSnapshot(
        host="lb1",
        address="lb1",
        status=HostStatus.OK,
        tool=Tool.SS,
        privilege=Privilege.ROOT,
        sockets=tuple(Socket.from_raw(raw) for raw in parsed.sockets),
    )
    findings = list(evaluate(snapshot, policy))
    count = len(parsed.sockets)
    del parsed
    gc.collect()
    kept = _resident_mib() - before
    print(
        json.dumps({"sockets": count, "records": records, "kept": kept, "findings": len(findings)})
    )


def _command(argv: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of one command, from a small helper process (see
    bench/parse.py). Exit 1 (findings) counts as success: the run judged the host."""
    helper = [sys.executable, __file__, "--measure", json.dumps(argv)]
    done = subprocess.run(helper, capture_output=True, text=True, check=True)
    elapsed, rss = done.stdout.split()
    return float(elapsed), int(rss) / 1024


def _measure(spec: str) -> None:
    argv = json.loads(spec)
    started = time.perf_counter()
    child = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    elapsed = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) not in (0, 1):
        sys.exit(f"{' '.join(argv)} failed")
    print(elapsed, usage.ru_maxrss)


def _best(repeat: int, argv: list[str]) -> tuple[float, float]:
    return min((_command(argv) for _ in range(repeat)), key=lambda result: result[0])


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--measure":
        _measure(sys.argv[2])
        return
    if len(sys.argv) == 3 and sys.argv[1] == "--retained":
        _retained(sys.argv[2])
        return
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sockets", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    # `python -m` rather than the console script: PYTHONPATH then picks the tree measured
    fleetaudit = [sys.executable, "-m", "fleetaudit"]
    with tempfile.TemporaryDirectory(prefix="fleetaudit-bench-") as tmp:
        path = Path(tmp) / "lb1.ss.txt"
        path.write_text(ss_lines(args.sockets, random.Random(7)))
        child = [sys.executable, __file__, "--retained", str(path)]
        memory = json.loads(subprocess.run(child, capture_output=True, check=True).stdout)
        parse_cmd = _best(args.repeat, [*fleetaudit, "parse", str(path), "-o", os.devnull])
        check = [*fleetaudit, "check", str(path), "--privileged", "-o", os.devnull]
        table = _best(args.repeat, [*check, "--format", "table"])
        report = _best(args.repeat, [*check, "--format", "json"])
    count = memory["sockets"]
    print(f"one host, {count:,} sockets ({memory['findings']} findings)")
    print(
        f"  retained    judged snapshot {memory['kept']:.0f} MiB "
        f"({memory['kept'] * 2**20 / count:.0f} B/socket)  parser records "
        f"{memory['records']:.0f} MiB ({memory['records'] * 2**20 / count:.0f} B/socket)"
    )
    print(f"              snapshot/records {memory['kept'] / memory['records']:.2f}")
    print(
        f"  command     fleetaudit parse --format json {parse_cmd[0]:.2f}s {parse_cmd[1]:.0f} MiB"
    )
    for name, (seconds, rss) in (("table", table), ("json", report)):
        print(
            f"              fleetaudit check --format {name} {seconds:.2f}s {rss:.0f} MiB: "
            f"{seconds / parse_cmd[0]:.2f}x the time, {rss / parse_cmd[1]:.2f}x the RSS of parse"
        )


if __name__ == "__main__":
    main()
