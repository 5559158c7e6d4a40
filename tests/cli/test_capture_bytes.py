"""Saved captures are read as the tools wrote them: a ``\\r`` in a process name stays in the
name, from a file and from stdin alike, and the lines after it keep their numbers."""

from __future__ import annotations

import json
from pathlib import Path

from tests.runcli import fleetaudit

CAPTURE = (
    "Netid State  Recv-Q Send-Q Local Address:Port Peer Address:PortProcess\n"
    'tcp   LISTEN 0  5  127.0.0.1:7005  0.0.0.0:*  users:(("x\\rLISTEN",pid=12,fd=3))\n'
    "tcp   WEIRD  0      5      127.0.0.1:7007      0.0.0.0:*\n"
)


def test_a_carriage_return_in_a_name_is_kept_from_a_file_and_from_stdin(tmp_path: Path) -> None:
    path = tmp_path / "ss.txt"
    path.write_bytes(CAPTURE.replace("\\r", "\r").encode())
    for args, stdin in (((path,), None), (("-",), path.read_bytes().decode())):
        done = fleetaudit("parse", *args, "--privileged", stdin=stdin)
        assert done.returncode == 2, done.stderr  # the WEIRD line
        [socket] = json.loads(done.stdout)
        assert socket["processes"][0]["name"] == "x\rLISTEN"
        assert ":3: unknown state 'WEIRD'" in done.stderr
    judged = fleetaudit("check", path, "--privileged")
    assert "(first, line 3: unknown state 'WEIRD')" in " ".join(judged.stdout.split())


def test_policy_explain_shows_hostile_names_escaped(tmp_path: Path) -> None:
    """A name that holds an escape sequence or a newline must not move the operator's
    cursor or split the explanation, as in every report."""
    path = tmp_path / "ss.txt"
    name = "a\x1b[2K\nb"
    path.write_bytes(CAPTURE.replace("x\\rLISTEN", name).encode())
    done = fleetaudit("policy", "explain", "--host", "db1", path, "--privileged")
    assert done.returncode == 0, done.stderr
    assert "\x1b" not in done.stdout
    assert "127.0.0.1:7005 a\\x1b[2K\\x0ab[12]" in done.stdout


def test_a_byte_order_mark_is_not_part_of_the_first_line(tmp_path: Path) -> None:
    """An editor that saves UTF-8 with a BOM must not turn the header into a bad line."""
    path = tmp_path / "ss.txt"
    clean = CAPTURE.replace("x\\rLISTEN", "sshd").replace("WEIRD ", "LISTEN")
    path.write_bytes(b"\xef\xbb\xbf" + clean.encode())
    done = fleetaudit("parse", path, "--privileged")
    assert done.returncode == 0, done.stderr
    assert [s["local_port"] for s in json.loads(done.stdout)] == [7005, 7007]
