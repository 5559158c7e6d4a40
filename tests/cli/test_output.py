"""Report files are replaced atomically and never left half-written; what is not a report
file (a device, a FIFO, a symlink) is written, never destroyed."""

import json
import os
import stat
import threading
from pathlib import Path

import pytest

from fleetaudit.cli.output import write_atomically
from fleetaudit.cli.reports import report_targets
from fleetaudit.errors import InputError
from fleetaudit.report import OutputFormat


def test_replaces_existing_file_completely(tmp_path):
    target = tmp_path / "report.json"
    target.write_text("old report that is longer than the new one\n")
    write_atomically(target, "new\n")
    assert target.read_text() == "new\n"
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]  # no temp file left


def test_unwritable_directory_is_a_clear_error(tmp_path):
    if os.geteuid() == 0:
        missing = tmp_path / "no" / "such" / "dir" / "r.json"
        with pytest.raises(InputError, match="cannot write output file"):
            write_atomically(missing, "x")
    else:
        tmp_path.chmod(0o500)
        with pytest.raises(InputError, match="cannot write output file"):
            write_atomically(tmp_path / "r.json", "x")


def test_existing_mode_is_kept_and_new_file_follows_umask(tmp_path: Path) -> None:
    kept = tmp_path / "kept.prom"
    kept.write_text("old\n")
    kept.chmod(0o640)
    write_atomically(kept, "new\n")
    assert stat.S_IMODE(kept.stat().st_mode) == 0o640
    old_mask = os.umask(0o077)
    try:
        write_atomically(tmp_path / "private.json", "{}\n")
    finally:
        os.umask(old_mask)
    assert stat.S_IMODE((tmp_path / "private.json").stat().st_mode) == 0o600


def test_symlink_stays_a_link_and_its_target_is_replaced(tmp_path: Path) -> None:
    (tmp_path / "reports").mkdir()
    real = tmp_path / "reports" / "current.json"
    real.write_text("old\n")
    link = tmp_path / "latest.json"
    link.symlink_to(Path("reports") / "current.json")  # relative, as people make them
    write_atomically(link, "new\n")
    assert link.is_symlink() and os.readlink(link) == str(Path("reports") / "current.json")
    assert real.read_text() == "new\n"
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["current.json", "latest.json", "reports"]


def test_dangling_symlink_creates_its_target(tmp_path: Path) -> None:
    link = tmp_path / "latest.json"
    link.symlink_to(tmp_path / "not-yet.json")
    write_atomically(link, "first\n")
    assert link.is_symlink() and (tmp_path / "not-yet.json").read_text() == "first\n"


def _char_device(tmp_path: Path) -> Path:
    """A null character device to write to: our own node in tmp_path when we may make one
    (root), so that a regression replaces nothing shared; /dev/null otherwise (an
    unprivileged process cannot replace it anyway)."""
    node = tmp_path / "null"
    try:
        os.mknod(node, stat.S_IFCHR | 0o666, os.makedev(1, 3))
        with open(node, "w"):  # a nodev mount refuses to open device nodes
            pass
    except OSError:
        return Path("/dev/null")
    return node


def test_character_device_is_written_in_place(tmp_path: Path) -> None:
    device = _char_device(tmp_path)
    write_atomically(device, "report\n")
    assert stat.S_ISCHR(device.stat().st_mode)
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_dev_null_itself_stays_a_device() -> None:
    write_atomically(Path("/dev/null"), "report\n")
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


def test_symlink_to_a_device_keeps_both(tmp_path: Path) -> None:
    link = tmp_path / "sink"
    link.symlink_to("/dev/null")
    write_atomically(link, "report\n")
    assert link.is_symlink() and stat.S_ISCHR(link.stat().st_mode)


def test_fifo_is_written_to_its_reader(tmp_path: Path) -> None:
    fifo = tmp_path / "report.fifo"
    os.mkfifo(fifo)
    received: list[str] = []

    def read() -> None:
        with open(fifo, encoding="utf-8") as handle:  # blocks until the writer opens
            received.append(handle.read())

    reader = threading.Thread(target=read, daemon=True)  # daemon: a regression cannot hang
    reader.start()
    write_atomically(fifo, ["line 1\n", "line 2\n"])
    reader.join(timeout=10)
    assert not reader.is_alive() and received == ["line 1\nline 2\n"]
    assert stat.S_ISFIFO(fifo.lstat().st_mode)


def test_directory_target_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="is a directory"):
        write_atomically(tmp_path, "x")


@pytest.mark.parametrize("second", ["{d}/same.out", "{d}/./same.out", "{d}/sub/../same.out"])
def test_same_file_twice_is_refused(tmp_path: Path, second: str) -> None:
    (tmp_path / "sub").mkdir()
    outputs = [f"json={tmp_path}/same.out", "junit=" + second.format(d=tmp_path)]
    with pytest.raises(InputError, match="same.out is given twice"):
        report_targets(OutputFormat.TABLE, outputs)


def test_same_file_through_a_link_is_refused(tmp_path: Path) -> None:
    (tmp_path / "same.out").write_text("")
    (tmp_path / "alias.out").symlink_to("same.out")
    with pytest.raises(InputError, match="alias.out is given twice"):
        report_targets(
            OutputFormat.TABLE, [str(tmp_path / "same.out"), str(tmp_path / "alias.out")]
        )


def test_environment_target_is_one_path(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("FLEETAUDIT_OUTPUT", f"json={tmp_path}/my report.json")
    assert report_targets(OutputFormat.TABLE, None) == [
        (OutputFormat.JSON, tmp_path / "my report.json")
    ]
    assert report_targets(OutputFormat.TABLE, ["-"]) == [(OutputFormat.TABLE, None)]


def test_several_outputs_in_one_run(tmp_path: Path) -> None:
    from tests.runcli import fleetaudit

    targets = {fmt: tmp_path / f"report.{fmt}" for fmt in ("json", "prom", "sarif", "junit")}
    args = [f"--output={fmt}={path}" for fmt, path in targets.items()]
    done = fleetaudit("demo", *args, "--output", "-", "--format", "markdown")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("## fleetaudit:")
    assert json.loads(targets["json"].read_text())["schema_version"] == 1
    assert "fleetaudit_hosts" in targets["prom"].read_text()
    assert json.loads(targets["sarif"].read_text())["version"] == "2.1.0"
    assert targets["junit"].read_text().startswith("<?xml")
    bad = fleetaudit("demo", "--output", "xml=x")
    assert bad.returncode == 2 and "unknown format 'xml'" in bad.stderr
