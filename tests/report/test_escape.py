"""Remote text can never drive the operator's terminal."""

from fleetaudit.report.escape import terminal_safe


def test_escape_sequences_and_controls_become_visible():
    hostile = "ngin\x1b[2J\x1b]0;owned\x07x\r\nfoo\x9b31m"
    shown = terminal_safe(hostile)
    assert "\x1b" not in shown and "\x07" not in shown and "\r" not in shown
    assert "\x9b" not in shown and "\n" not in shown
    assert shown.startswith("ngin\\x1b[2J")


def test_bidi_overrides_are_escaped():
    assert terminal_safe("abc\u202edcba") == "abc\\u202edcba"


def test_ordinary_text_is_unchanged():
    text = "sshd: /usr/sbin/sshd -D [listener] 0 of 10-100 startups (äöü)"
    assert terminal_safe(text) == text
