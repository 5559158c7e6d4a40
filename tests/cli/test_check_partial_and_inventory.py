"""`fleetaudit check` on captures that cannot be a whole listing, and hosts by inventory."""

from __future__ import annotations

import json
import shutil
from importlib import resources
from pathlib import Path

from tests.runcli import fleetaudit

DEMO = Path(str(resources.files("fleetaudit").joinpath("data", "demo")))
SS_TUNP = """\
Netid State Recv-Q Send-Q Local Address:Port Peer Address:Port Process
tcp   ESTAB 0      0      10.0.0.5:22        10.0.0.9:51234    users:(("sshd",pid=1234,fd=4))
tcp   ESTAB 0      0      10.0.0.5:3306      10.0.0.7:40000    users:(("mysqld",pid=999,fd=30))
"""
INVENTORY = "hosts:\n  db3: {groups: [db]}\n  db3.example.com: {groups: [db]}\n  web1: {}\n"


def _inventory(tmp_path: Path) -> Path:
    path = tmp_path / "prod.yaml"
    path.write_text(INVENTORY)
    return path


def test_a_listing_without_listeners_fails_the_gate_naming_the_cause(tmp_path: Path) -> None:
    capture = tmp_path / "db3.txt"
    capture.write_text(SS_TUNP)
    done = fleetaudit("check", capture, "--privileged", "--format", "json")
    assert done.returncode == 1, done.stdout + done.stderr
    [finding] = json.loads(done.stdout)["findings"]
    assert (finding["rule_id"], finding["severity"]) == ("audit-coverage", "high")
    assert "not one listening" in finding["message"]
    assert "without -a/-l" in finding["message"]


def test_a_header_or_banner_alone_is_refused_like_an_empty_file(tmp_path: Path) -> None:
    for name, text in (
        ("h1.txt", SS_TUNP.splitlines()[0] + "\n"),
        ("h2.txt", "Active Internet connections (servers and established)\n"),
    ):
        capture = tmp_path / name
        capture.write_text(text)
        done = fleetaudit("check", capture)
        assert done.returncode == 2, done.stdout
        assert f"{capture}: no socket in the listing" in done.stderr
        assert done.stdout == "" and "Traceback" not in done.stderr


UNIX = "u_str ESTAB 0      0      /run/systemd/journal/stdout 4711 * 4712\n"
"""An ``ss -a`` line of a socket kind fleetaudit does not audit."""


def test_a_long_listing_is_judged_by_all_of_it_not_by_its_start(tmp_path: Path) -> None:
    """Only the start of a long capture is parsed before it is judged, to refuse what is no
    usable listing; a start without a TCP or UDP socket must not decide for the rest."""
    header, *lines = SS_TUNP.splitlines(keepends=True)
    unix_first = tmp_path / "db3.txt"
    unix_first.write_text(header + UNIX * 2000 + "".join(lines))  # 130 KB of unix sockets
    done = fleetaudit("check", unix_first, "--privileged", "--format", "json")
    assert done.returncode == 1, done.stderr
    assert len(json.loads(done.stdout)["hosts"][0]["sockets"]) == 2
    unix_only = tmp_path / "db4.txt"
    unix_only.write_text(header + UNIX * 2000)
    done = fleetaudit("check", unix_only)
    assert done.returncode == 2 and "no TCP or UDP socket here, only 2000" in done.stderr
    pasted_twice = tmp_path / "db5.txt"
    pasted_twice.write_text((header + "".join(lines) * 500) * 2)
    done = fleetaudit("check", pasted_twice)
    assert done.returncode == 2 and "the capture is one listing twice" in done.stderr


def test_the_inventory_host_the_file_name_starts_with_is_the_host(tmp_path: Path) -> None:
    """`db3-ss.txt` is db3 and `db3.example.com.ss.txt` the FQDN host: the longest wins."""
    inventory = _inventory(tmp_path)
    for file_name, host in (("db3-ss.txt", "db3"), ("db3.example.com.ss.txt", "db3.example.com")):
        capture = shutil.copy(DEMO / "db1.ss.txt", tmp_path / file_name)
        done = fleetaudit("check", capture, "--inventory", inventory, "--format", "json")
        report = json.loads(done.stdout)
        assert [s["host"] for s in report["hosts"]] == [host], done.stderr
        assert [s["groups"] for s in report["hosts"]] == [["db"]]
        rules = {f["rule_id"] for f in report["findings"]}
        assert "datastores-private-on-db-hosts" in rules


def test_without_an_inventory_the_host_is_still_the_name_up_to_its_first_dot(
    tmp_path: Path,
) -> None:
    capture = shutil.copy(DEMO / "db1.ss.txt", tmp_path / "db3.example.com.ss.txt")
    done = fleetaudit("check", capture, "--format", "json")
    assert [s["host"] for s in json.loads(done.stdout)["hosts"]] == ["db3"]


def test_a_host_the_inventory_lacks_is_an_error_saying_where_the_name_came_from(
    tmp_path: Path,
) -> None:
    inventory = _inventory(tmp_path)
    capture = shutil.copy(DEMO / "db1.ss.txt", tmp_path / "db4.txt")
    done = fleetaudit("check", capture, "--inventory", inventory)
    assert done.returncode == 2 and done.stdout == ""
    assert f"{capture}: host 'db4' (taken from the file name" in done.stderr
    assert f"is not in the inventory {inventory} (did you mean 'db3'" in done.stderr
    typo = fleetaudit("check", capture, "--host", "db4", "--inventory", inventory)
    assert typo.returncode == 2 and typo.stdout == ""
    assert "host 'db4' (given with --host) is not in the inventory" in typo.stderr
    assert "Traceback" not in done.stderr + typo.stderr


def test_group_and_inventory_together_are_refused(tmp_path: Path) -> None:
    capture = shutil.copy(DEMO / "db1.ss.txt", tmp_path / "web1.txt")
    done = fleetaudit("check", capture, "--inventory", _inventory(tmp_path), "--group", "db")
    assert done.returncode == 2 and "--group and --inventory" in done.stderr
