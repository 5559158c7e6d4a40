"""`snapshot` takes `run`'s collection options, defined once, and they reach the collector.

The option comparison reads the real click commands the `fleetaudit` program is built
from; the behaviour tests run the real program on this machine (local transport) and on
loopback ports only.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, get_type_hints

import pytest
import typer

from fleetaudit.cli.app import app
from fleetaudit.cli.history import snapshot as snapshot_command
from fleetaudit.cli.run import run as run_command
from tests.runcli import fleetaudit

RUN_ONLY = {"format", "output", "fail_on", "shard", "db", "no_history", "keep_days"}
"""run's options about the report, the exit gate and the history: a snapshot is always one
JSON file, judges nothing into its exit code and keeps no history. A new option of run
must be added to snapshot or here, deliberately."""

LOCAL = "hosts:\n  localhost: {transport: local}\n"


def _params(name: str) -> dict[str, Any]:
    """The options of the command ``name`` as the program parses them, by parameter name."""
    command = typer.main.get_command(app).commands[name]  # type: ignore[attr-defined]
    return {param.name: param for param in command.params}


def _definition(param: Any) -> dict[str, Any]:
    """All of an option as parsed and shown: flags, help, default, env var, bounds, metavar,
    type (typer's declaration object itself may be a per-command copy)."""
    seen = {key: value for key, value in vars(param).items() if key != "type_descriptor"}
    # typer wraps a value check anew for each command; the check wrapped is the one compared
    callback = getattr(param.callback, "__wrapped__", param.callback)
    return {**seen, "callback": callback, "annotation": param.type_descriptor.annotation}


def test_snapshot_has_every_collection_option_of_run_with_the_same_definition() -> None:
    run, snapshot = _params("run"), _params("snapshot")
    collection = set(run) - RUN_ONLY
    assert collection <= set(snapshot), f"snapshot lacks {sorted(collection - set(snapshot))}"
    assert set(snapshot) == collection | {"output"} and snapshot["output"].required
    for name in collection:
        assert _definition(snapshot[name]) == _definition(run[name]), name
    # Defined once: both signatures carry the very same typer declaration object.
    run_hints = get_type_hints(run_command, include_extras=True)
    snapshot_hints = get_type_hints(snapshot_command, include_extras=True)
    for name in collection:
        declared = run_hints[name].__metadata__, snapshot_hints[name].__metadata__
        assert all(a is b for a, b in zip(*declared, strict=True)), name
    assert {"concurrency", "connect_timeout", "command_timeout", "insecure"} <= collection


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--concurrency", "0"], "Invalid value for '--concurrency'"),
        (["--concurrency", "20000"], "Invalid value for '--concurrency'"),
        (["--connect-timeout", "0"], "Invalid value for '--connect-timeout'"),
        (["--command-timeout", "0.01"], "Invalid value for '--command-timeout'"),
        (["--samples", "101"], "Invalid value for '--samples'"),
        (["--interval", "-1"], "Invalid value for '--interval'"),
        # QA: inf passed typer's min= and failed every host at once as `timeout`, before
        # any was contacted; nan was answered with "should be greater than or equal to"
        (["--command-timeout", "inf"], "'--command-timeout': inf is not a number at least 0.1"),
        (["--interval", "inf"], "'--interval': inf is not a number at least 0"),
        (["--connect-timeout", "nan"], "'--connect-timeout': nan is not a number at least 0.1"),
        (["--accept-new", "--insecure-no-host-key-check"], "choose one of --accept-new"),
    ],
)
def test_snapshot_refuses_bad_collection_options_like_run_before_auditing(
    tmp_path: Path, options: list[str], message: str
) -> None:
    inventory, snap = tmp_path / "inventory.yaml", tmp_path / "snap.json"
    inventory.write_text(LOCAL)
    for command in (["run", inventory, "--no-history"], ["snapshot", inventory, "-o", snap]):
        done = fleetaudit(*command, *options, state=tmp_path)
        assert done.returncode == 2, (command, done.stderr)
        assert message in done.stderr and "internal error" not in done.stderr, done.stderr
    assert not snap.exists()


def test_snapshot_takes_samples_at_the_interval_given(tmp_path: Path) -> None:
    inventory, snap = tmp_path / "inventory.yaml", tmp_path / "snap.json"
    inventory.write_text(LOCAL)
    done = fleetaudit(
        "snapshot", inventory, "-o", snap, "--samples", "2", "--interval", "0", state=tmp_path
    )
    assert done.returncode == 0, done.stderr
    [host] = json.loads(snap.read_text())["hosts"]
    assert (host["status"], host["samples"]) == ("ok", 2)


def test_snapshot_with_allow_unreachable_exits_0_and_still_names_the_host(
    tmp_path: Path, refused_port: int
) -> None:
    inventory, snap = tmp_path / "inventory.yaml", tmp_path / "snap.json"
    port = refused_port
    inventory.write_text(LOCAL + f"  down: {{address: 127.0.0.1, port: {port}}}\n")
    strict = fleetaudit("snapshot", inventory, "-o", snap, state=tmp_path)
    snap.unlink()
    tolerant = fleetaudit("snapshot", inventory, "-o", snap, "--allow-unreachable", state=tmp_path)
    assert strict.returncode == 2, strict.stderr
    assert tolerant.returncode == 0, tolerant.stderr
    hosts = {h["host"]: h["status"] for h in json.loads(snap.read_text())["hosts"]}
    assert hosts == {"localhost": "ok", "down": "unreachable"}


def test_commands_whose_output_is_one_file_refuse_format_equals_file(tmp_path: Path) -> None:
    """QA: `snapshot -o json=s3.json` (as `run -o` is written) wrote a file named
    `json=s3.json`; snapshot, parse and diff take a file only, and say so."""
    inventory = tmp_path / "inventory.yaml"
    inventory.write_text(LOCAL)
    capture = tmp_path / "web1.ss.txt"
    capture.write_text(
        "Netid State Recv-Q Send-Q Local Address:Port Peer Address:Port\n"
        "tcp LISTEN 0 128 0.0.0.0:22 0.0.0.0:*\n"
    )
    target = f"json={tmp_path / 'out.json'}"
    for command in (
        ("snapshot", inventory, "-o", target),
        ("parse", capture, "-o", target),
        ("diff", "--db", tmp_path / "none.sqlite", "-o", target),
    ):
        done = fleetaudit(*command, state=tmp_path)
        assert done.returncode == 2, (command, done.stderr)
        assert f"did you mean --output {tmp_path / 'out.json'}?" in done.stderr, done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["inventory.yaml", "web1.ss.txt"]


def test_run_refuses_keep_days_without_a_history(tmp_path: Path) -> None:
    """QA: `--no-history --keep-days 5` was accepted, and kept nothing from anything."""
    inventory = tmp_path / "inventory.yaml"
    inventory.write_text(LOCAL)
    done = fleetaudit("run", inventory, "--no-history", "--keep-days", "5", state=tmp_path)
    assert done.returncode == 2 and done.stdout == ""
    assert "--keep-days deletes old runs from the history, which --no-history does not use" in (
        done.stderr
    )


def test_run_says_a_db_it_does_not_record_in(tmp_path: Path) -> None:
    """QA: `--db night.sqlite --no-history` recorded nothing and said nothing; the database
    named in the environment for every run does not make a one-off --no-history warn."""
    inventory = tmp_path / "inventory.yaml"
    inventory.write_text(LOCAL)
    db = tmp_path / "night.sqlite"
    warning = "warning: --no-history: this run is not recorded in the --db given"
    done = fleetaudit("run", inventory, "--no-history", "--db", db, "-f", "json", state=tmp_path)
    assert done.returncode == 0, done.stderr
    assert warning in done.stderr
    assert json.loads(done.stdout)["hosts"][0]["status"] == "ok"
    assert not db.exists()

    done = fleetaudit(
        "run",
        inventory,
        "--no-history",
        "-f",
        "json",
        state=tmp_path,
        env={"FLEETAUDIT_DB": str(db)},
    )
    assert done.returncode == 0, done.stderr
    assert warning not in done.stderr
    assert not db.exists()


@pytest.mark.parametrize("command", ["run", "snapshot"])
def test_known_hosts_with_no_host_key_check_are_said_unread(tmp_path: Path, command: str) -> None:
    """A known_hosts file beside --insecure-no-host-key-check is never read: the user may
    believe the keys it pins are checked."""
    inventory = tmp_path / "inventory.yaml"
    inventory.write_text(LOCAL)
    known = tmp_path / "known_hosts"
    known.write_text("")
    extra = ["-o", tmp_path / "snap.json"] if command == "snapshot" else ["--no-history"]
    done = fleetaudit(
        command, inventory, *extra, "--insecure-no-host-key-check", "--known-hosts", known,
        state=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "checks no host key: the --known-hosts file is not read" in done.stderr
