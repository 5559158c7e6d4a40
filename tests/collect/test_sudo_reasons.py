"""Why the become script ran without privilege, as a real sudo says it, run by a real
/bin/sh as a throwaway user; and how a reply whose run sudo refused is read. The sudo tests
need root: they create one user and one sudoers file, and remove exactly those."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator

import pytest

from fleetaudit.collect.commands import COLLECT_BECOME
from fleetaudit.collect.reply import parse_reply
from fleetaudit.errors import TransportError
from fleetaudit.model import Privilege
from tests.e2e.test_sudo_setups import _accounts


@pytest.fixture
def other_command_only() -> Iterator[str]:
    """A user whose only sudo right is another command: `sudo -n -l ss` prints nothing."""
    if os.geteuid() != 0 or not shutil.which("sudo") or not shutil.which("unshare"):
        pytest.skip("needs root, sudo and unshare")
    user = f"fa{os.getpid()}oc"
    with _accounts([user], f"{user} ALL=(root) NOPASSWD: /usr/bin/true\n"):
        yield user


@pytest.mark.parametrize("hostname", [None, "fa-unresolvable.invalid"])
def test_a_silent_refusal_names_the_command_line_sudoers_must_allow(
    other_command_only: str, hostname: str | None
) -> None:
    """Was `sudo -n refused ()`. With a host name sudo cannot resolve (its own UTS
    namespace), sudo first warns `unable to resolve host`: a warning, not the reason."""
    run = ["runuser", "-u", other_command_only, "--", "sh", "-c", COLLECT_BECOME]
    if hostname:
        run = ["unshare", "--uts", "sh", "-c", f'hostname {hostname}; exec "$@"', "sh", *run]
    done = subprocess.run(run, capture_output=True, text=True, timeout=30, check=True)
    reply = parse_reply(done.stdout)
    ss = shutil.which("ss")
    assert reply.privilege is Privilege.UNPRIVILEGED and reply.sudo_command == f"{ss} -tuanpe"
    assert reply.sudo_refused == (
        f"no sudoers rule lets this user run {ss} -tuanpe as root without a password"
    )


_HEAD = "@@fleetaudit 1\n@@uid 1000\n@@tool ss\n@@command ss -tuanpe\n"
_SUDO = "@@sudo-command /usr/bin/ss -tuanpe\n@@privilege root\n@@output\n"
_LISTING = "Netid State Recv-Q Send-Q Local Address:Port Peer Address:Port Process\n"


def test_a_run_sudo_refused_is_read_as_the_unprivileged_listing_that_follows() -> None:
    refused = "@@sudo-refused sudo: sorry, you must have a tty to run sudo\n"
    reply = parse_reply(_HEAD + _SUDO + refused + "@@privilege unprivileged\n@@output\n" + _LISTING)
    assert (reply.privilege, reply.refused_at_run, reply.output) == (
        Privilege.UNPRIVILEGED,
        True,
        _LISTING,
    )
    assert reply.sudo_refused == "sudo: sorry, you must have a tty to run sudo"


def test_a_fallback_after_listing_lines_is_refused() -> None:
    """Listing lines, then the fallback: the output mixes two listings and is not judged."""
    text = _HEAD + _SUDO + _LISTING + "@@sudo-refused sudo: x\n@@privilege unprivileged\n"
    with pytest.raises(TransportError, match="mixes two listings"):
        parse_reply(text + "@@output\n" + _LISTING)
