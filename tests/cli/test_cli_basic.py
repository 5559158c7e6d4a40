"""The command line as a user meets it: help, version, and mistakes without tracebacks."""

import os
import subprocess
import sys

import pytest

from fleetaudit import __version__
from tests.runcli import fleetaudit


def test_version():
    done = fleetaudit("--version")
    assert done.returncode == 0
    assert done.stdout.strip() == f"fleetaudit {__version__}"


def test_help_lists_the_commands_and_exit_codes():
    done = fleetaudit("--help")
    assert done.returncode == 0
    for command in ("run", "demo", "parse"):
        assert command in done.stdout
    run_help = fleetaudit("run", "--help").stdout
    for option in ("--policy", "--fail-on", "--accept-new", "--insecure-no-host-key-check"):
        assert option in run_help
    assert "Exit codes" in run_help


def test_missing_inventory_is_exit_2_with_the_path_and_no_traceback(tmp_path):
    missing = tmp_path / "nope.yaml"
    done = fleetaudit("run", str(missing))
    assert done.returncode == 2
    assert str(missing) in done.stderr
    assert "Traceback" not in done.stderr


def test_conflicting_host_key_flags_are_a_usage_error(tmp_path):
    inventory = tmp_path / "inv.yaml"
    inventory.write_text("hosts:\n  h1: {address: 127.0.0.1}\n")
    done = fleetaudit("run", str(inventory), "--accept-new", "--insecure-no-host-key-check")
    assert done.returncode == 2
    assert "choose one" in done.stderr
    assert "Traceback" not in done.stderr


def test_unknown_fail_on_value_is_a_usage_error(tmp_path):
    done = fleetaudit("run", str(tmp_path / "x.yaml"), "--fail-on", "severe")
    assert done.returncode == 2
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("argv", [["--help"], ["--version"], ["run", "--help"]])
def test_help_and_version_to_a_closed_stdout_are_an_error_not_a_traceback(
    argv: list[str],
) -> None:
    """`fleetaudit --help >&-` ended in an OSError traceback and exit 1, which means
    "findings"; it is exit 2 with one line, as for a report that cannot be written."""
    done = subprocess.run(
        [sys.executable, "-m", "fleetaudit", *argv], stderr=subprocess.PIPE, text=True,
        timeout=60, check=False, preexec_fn=lambda: os.close(1),
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr == "fleetaudit: error: cannot write to stdout: Bad file descriptor\n"


@pytest.mark.parametrize("argv", [["--help"], ["--version"], ["check", "--help"]])
def test_help_and_version_to_a_full_disk_or_a_reader_gone_end_as_reports_do(
    argv: list[str],
) -> None:
    """A full disk was a traceback and exit 1, a reader gone (`| true`) exit 1: both mean
    "findings" to a script (QA). They are exit 2 with one line, and a quiet 141."""
    with open("/dev/full", "w") as full:
        done = subprocess.run(
            [sys.executable, "-m", "fleetaudit", *argv], stdout=full, stderr=subprocess.PIPE,
            text=True, timeout=60, check=False,
        )  # fmt: skip
    assert (done.returncode, done.stderr) == (
        2,
        "fleetaudit: error: cannot write to stdout: No space left on device\n",
    )
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader has gone before the first write
    try:
        gone = subprocess.run(
            [sys.executable, "-m", "fleetaudit", *argv], stdout=write_end,
            stderr=subprocess.PIPE, text=True, timeout=60, check=False,
        )  # fmt: skip
    finally:
        os.close(write_end)
    assert (gone.returncode, gone.stderr) == (141, "")


@pytest.mark.parametrize("command", [["check", "--host", "h1"], ["parse"]])
def test_a_capture_on_a_closed_stdin_is_a_clear_error(command: list[str]) -> None:
    """`check - <&-` was "internal error: AttributeError" (QA)."""
    done = subprocess.run(
        [sys.executable, "-m", "fleetaudit", *command, "-"], capture_output=True, text=True,
        timeout=60, check=False, stdin=None, preexec_fn=lambda: os.close(0),
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.strip().endswith("stdin is closed"), done.stderr


def test_an_inventory_on_a_closed_stdin_is_a_clear_error() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "fleetaudit", "inventory", "list", "-"], capture_output=True,
        text=True, timeout=60, check=False, preexec_fn=lambda: os.close(0),
    )  # fmt: skip
    assert done.returncode == 2
    assert "cannot read the inventory from stdin: it is closed" in done.stderr, done.stderr


def test_a_history_database_that_is_a_directory_is_named_so(tmp_path) -> None:  # type: ignore[no-untyped-def]
    done = fleetaudit("history", "--db", str(tmp_path))
    assert done.returncode == 2
    assert f"{tmp_path} is a directory, not a history database" in done.stderr
