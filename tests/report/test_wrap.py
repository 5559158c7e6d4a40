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


def test_a_word_longer_than_the_line_is_cut_into_lines_that_fit() -> None:
    """A hostile host's megabyte-long word, wrapped with long words broken: textwrap's own
    breaking copies the rest of the word for every line (minutes for a few megabytes, QA);
    cut beforehand, every line fits and no character is lost or added."""
    word = "".join(chr(ord("a") + i % 26) for i in range(250_000))
    text = f"first at line 3: unknown state {word} end"
    lines = wrap(text, 60, break_long_words=True, subsequent_indent="  ")
    assert all(len(line) <= 60 for line in lines)
    assert lines[0] == "first at line 3: unknown state"
    assert "".join(line.strip() for line in lines[1:-1]) + lines[-1].strip()[: -len(" end")] == word
    assert lines[-1].endswith(" end")


def test_long_words_stay_whole_unless_breaking_is_asked_for() -> None:
    word = "x" * 500
    assert wrap(f"a {word} b", 60) == ["a", word, "b"]
