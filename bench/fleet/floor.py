"""The floor: a bare asyncssh fan-out doing what fleetaudit's collection does, nothing more.

    floor.py HOSTS.txt --key KEY --known-hosts KH --concurrency 200 [--user root]

One connection per host (at most --concurrency at once), the same known_hosts (read once)
and the same client key (read once), the same cipher preference, the same command
(fleetaudit's constant collection script, imported from fleetaudit.collect.commands), its
output read and thrown away. No parsing, no policy, no report: whatever fleetaudit does
beyond this is its overhead.
Prints one JSON line: hosts, ok, failed (first errors).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys

import asyncssh

from fleetaudit.collect.commands import COLLECT

# fleetaudit.transport.ssh's CIPHERS and LOGIN_SHELL_COMMAND, copied: importing the transport
# would add fleetaudit's models to the floor's start-up. The same ciphers and the same way of
# sending the script keep the comparison about overhead (a test keeps the copies equal).
LOGIN_SHELL_COMMAND = "exec /bin/sh"
CIPHERS = [
    "aes128-gcm@openssh.com",
    "aes256-gcm@openssh.com",
    "chacha20-poly1305@openssh.com",
    "aes256-ctr",
    "aes192-ctr",
    "aes128-ctr",
]


async def main_async(args: argparse.Namespace, addresses: list[str]) -> dict[str, object]:
    known_hosts = asyncssh.read_known_hosts(args.known_hosts)
    key = asyncssh.read_private_key(args.key)
    sem = asyncio.Semaphore(args.concurrency)
    errors: list[str] = []

    async def one(address: str) -> bool:
        async with sem:
            try:
                async with asyncssh.connect(
                    address,
                    username=args.user,
                    client_keys=[key],
                    known_hosts=known_hosts,
                    config=[],
                    encryption_algs=CIPHERS,
                    password_auth=False,
                    kbdint_auth=False,
                    connect_timeout=args.timeout,
                ) as conn:
                    result = await asyncio.wait_for(
                        conn.run(
                            LOGIN_SHELL_COMMAND, input=COLLECT.encode(), encoding=None, check=False
                        ),
                        args.timeout * 6,
                    )
                    out = result.stdout
                    return (
                        result.exit_status == 0
                        and isinstance(out, bytes)
                        and out.startswith(b"@@fleetaudit")
                    )
            except (TimeoutError, OSError, asyncssh.Error) as exc:
                if len(errors) < 5:
                    errors.append(f"{address}: {exc!r}")
                return False

    results = await asyncio.gather(*(one(a) for a in addresses))
    return {"hosts": len(addresses), "ok": sum(results), "errors": errors}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("hosts")
    ap.add_argument("--key", required=True)
    ap.add_argument("--known-hosts", required=True)
    ap.add_argument("--concurrency", type=int, default=200)
    ap.add_argument("--user", default="root")
    ap.add_argument("--timeout", type=float, default=10.0)
    args = ap.parse_args()
    with open(args.hosts) as f:
        addresses = [a.strip() for a in f if a.strip()]
    summary = asyncio.run(main_async(args, addresses))
    print(json.dumps(summary))
    return 0 if summary["ok"] == summary["hosts"] else 2


if __name__ == "__main__":
    sys.exit(main())
