"""The collection script, run by a real /bin/sh on this machine.

The fallback tests hide ``ss`` (and ``netstat``) inside a private mount namespace, so they
need root and ``unshare``; nothing outside that namespace is touched.
"""

import os
import shutil
import subprocess

import pytest

from fleetaudit.collect.commands import COLLECT, COLLECT_BECOME, collect_command
from fleetaudit.collect.reply import parse_reply
from fleetaudit.model import Privilege, Tool


def _run(script: str, *, hide: tuple[str, ...] = (), user: str | None = None) -> str:
    argv = ["sh", "-c", script]
    if hide:
        mounts = "; ".join(f"mount --bind /dev/null {shutil.which(t)}" for t in hide)
        argv = ["unshare", "--mount", "sh", "-c", f'{mounts}; exec sh -c "$0"', script]
    if user:
        argv = ["runuser", "-u", user, "--", *argv]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_commands_are_constants_chosen_by_become():
    assert collect_command(False) is COLLECT
    assert collect_command(True) is COLLECT_BECOME
    assert "sudo -n" in COLLECT_BECOME and "sudo" not in COLLECT


def test_script_is_posix_sh():
    for script in (COLLECT, COLLECT_BECOME):
        subprocess.run(["sh", "-n", "-c", script], check=True, timeout=10)


def test_prefers_ss_and_reports_root():
    if os.geteuid() != 0:
        pytest.skip("needs root")
    reply = parse_reply(_run(COLLECT))
    assert reply.tool is Tool.SS
    assert reply.privilege is Privilege.ROOT
    assert reply.output.startswith("Netid")


needs_root_unshare = pytest.mark.skipif(
    os.geteuid() != 0 or not shutil.which("unshare"), reason="needs root and unshare"
)


@needs_root_unshare
def test_falls_back_to_netstat_when_ss_is_missing():
    reply = parse_reply(_run(COLLECT, hide=("ss",)))
    assert reply.tool is Tool.NETSTAT
    assert "Proto Recv-Q Send-Q" in reply.output


@needs_root_unshare
def test_falls_back_to_proc_net_when_neither_exists():
    reply = parse_reply(_run(COLLECT, hide=("ss", "netstat")))
    assert reply.tool is Tool.PROC
    assert "==> /proc/net/tcp <==" in reply.output
    assert "==> /proc/net/udp6 <==" in reply.output


@needs_root_unshare
def test_become_without_sudo_rights_says_why_and_runs_unprivileged():
    reply = parse_reply(_run(COLLECT_BECOME, user="nobody"))
    assert reply.privilege is Privilege.UNPRIVILEGED
    assert reply.uid != "0"
    assert reply.sudo_refused  # the reason reaches the report
    assert reply.tool is Tool.SS
