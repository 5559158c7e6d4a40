"""Report files are replaced atomically and never left half-written."""

import os

import pytest

from fleetaudit.cli.output import write_atomically
from fleetaudit.errors import InputError


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
