"""A report is never written over a file the command reads or records into (QA: with
`-o json=$DB` the report replaced the history database; `check cap.txt -o cap.txt`
replaced the capture it judged)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.runcli import fleetaudit

CAPTURE = Path(__file__).parents[1] / "fixtures" / "captures" / "nt-nettools-tuanpe-root.txt"
INVENTORY = "hosts:\n  localhost: {transport: local}\n"


@pytest.mark.parametrize(
    ("args", "what"),
    [
        (
            ("run", "{d}/inv.yaml", "--db", "{d}/h.sqlite", "-o", "json={d}/h.sqlite"),
            "history database",
        ),
        (("run", "{d}/inv.yaml", "--no-history", "-o", "csv={d}/./inv.yaml"), "inventory"),
        (("run", "{d}/inv.yaml", "--no-history", "-p", "{d}/p.yaml", "-o", "{d}/p.yaml"), "policy"),
        (("snapshot", "{d}/inv.yaml", "-o", "{d}/inv.yaml"), "inventory"),
        (("check", "{d}/db1.txt", "-o", "json={d}/db1.txt"), "capture"),
        (("parse", "{d}/db1.txt", "-o", "{d}/db1.txt"), "capture"),
        (("merge", "{d}/shard.json", "-o", "{d}/shard.json"), "shard report"),
        (("diff", "{d}/shard.json", "{d}/shard.json", "-o", "{d}/shard.json"), "report"),
    ],
)
def test_a_report_is_never_written_over_what_the_command_reads(
    tmp_path: Path, args: tuple[str, ...], what: str
) -> None:
    (tmp_path / "inv.yaml").write_text(INVENTORY)
    shutil.copy(Path(__file__).parents[2] / "policies" / "default.yaml", tmp_path / "p.yaml")
    shutil.copy(CAPTURE, tmp_path / "db1.txt")
    made = fleetaudit("check", tmp_path / "db1.txt", "-o", f"json={tmp_path}/shard.json",
                      state=tmp_path)  # fmt: skip
    assert made.returncode in (0, 1), made.stderr
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()}
    done = fleetaudit(*(arg.format(d=tmp_path) for arg in args), state=tmp_path)
    assert done.returncode == 2, done.stderr
    assert f"is the {what} this command uses" in done.stderr, done.stderr
    assert "the report would replace it; give another file" in done.stderr
    after = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()}
    assert after == before  # nothing written, nothing replaced: refused before any work


def test_files_the_inventory_policy_and_ssh_defaults_name_are_kept_too(tmp_path: Path) -> None:
    """QA: the base of an `extends:` chain, a key file, the default known_hosts and
    ssh_config and --accept-new's known_hosts were still replaced by the report."""
    home, state = tmp_path / "home", tmp_path / "state"
    (home / ".ssh").mkdir(parents=True)
    (state / "fleetaudit").mkdir(parents=True)
    for kept in (home / ".ssh" / "known_hosts", home / ".ssh" / "config",
                 state / "fleetaudit" / "known_hosts", tmp_path / "id_audit"):  # fmt: skip
        kept.write_text("kept\n")
    (tmp_path / "base.yaml").write_text("version: 1\nextends: default\nrules: []\n")
    (tmp_path / "child.yaml").write_text("version: 1\nextends: base.yaml\nrules: []\n")
    (tmp_path / "inv.yaml").write_text(
        f"hosts:\n  h1: {{address: 127.0.0.1, port: 9, key: {tmp_path}/id_audit}}\n"
    )
    env = {"HOME": str(home)}
    run = ("run", tmp_path / "inv.yaml", "--no-history", "--policy", tmp_path / "child.yaml")
    for target, what in (
        (tmp_path / "base.yaml", "policy"),
        (tmp_path / "id_audit", "key file"),
        (home / ".ssh" / "known_hosts", "known_hosts file"),
        (home / ".ssh" / "config", "ssh_config"),
        (state / "fleetaudit" / "known_hosts", "known_hosts file of --accept-new"),
    ):
        done = fleetaudit(*run, "-o", f"json={target}", env=env, state=state)
        assert done.returncode == 2, done.stderr
        assert f"is the {what} this command uses" in done.stderr, done.stderr
        assert target.read_text().startswith(("kept", "version")), target
    # a device is written in place, never replaced: /dev/null is fine beside itself
    beside = ("--ssh-config", "/dev/null", "--connect-timeout", "1", "-o", "json=/dev/null")
    null = fleetaudit(*run[:3], *beside, env=env, state=state)
    assert "this command uses" not in null.stderr and null.returncode == 2, null.stderr
