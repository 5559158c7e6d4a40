"""Report text is wrapped to the width, but a command the reader must paste stays whole."""

from __future__ import annotations

from fleetaudit.model.host import PRIVILEGE_FIX
from fleetaudit.report import TableFormatter
from fleetaudit.report.wrap import wrap
from tests.factories import run_result, snapshot, sock

SUDOERS = "`audit ALL=(root) NOPASSWD: /usr/bin/ss -tuanpe`"


def test_a_quoted_command_is_never_broken_across_lines() -> None:
    text = f"sudo -n refused; to name the owners, add the sudoers line {SUDOERS} on the host"
    for width in range(20, 90):
        lines = wrap(text, width)
        assert sum(SUDOERS in line for line in lines) == 1, width
        assert " ".join(lines) == text
        assert all(len(line) <= width for line in lines if "`" not in line)


def test_a_lone_backquote_sent_by_the_host_does_not_unpair_the_command() -> None:
    """sudo's complaint quotes a file as `/etc/sudoers.d/local': paired from the start, its
    backquote took the command's opening one, and the command broke across lines (QA)."""
    text = f"sudo: unable to open `/etc/sudoers.d/local': Permission denied; add {SUDOERS}"
    for width in (40, 60, 80):
        lines = wrap(text, width)
        assert sum(SUDOERS in line for line in lines) == 1, width
        assert " ".join(lines) == text


def test_the_table_notes_keep_the_sudoers_line_whole_and_wrap_the_rest() -> None:
    """The NOTE line ran to 137 columns in files; wrapped plainly, its sudoers line broke."""
    reason = "sudo -n refused (sudo: a password is required); owners of other users' sockets"
    note = f"{reason} unknown{PRIVILEGE_FIX}add the sudoers line {SUDOERS}"
    host = snapshot("cache1", sock(), privilege="unprivileged", privilege_note=note)
    text = TableFormatter(width=80).render(run_result((host,)))
    notes = text.split("\n\n")[0].splitlines()
    assert notes[0].startswith("NOTE: audited without root")
    assert all(len(line) <= 80 for line in notes)
    assert any(SUDOERS in line for line in notes)
