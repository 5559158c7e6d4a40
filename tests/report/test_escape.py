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


def test_every_invisible_or_text_moving_character_is_escaped():
    """QA: a zero-width space passed through while the right-to-left override next to it
    was escaped. Every control, format and line/paragraph separator character of the
    Unicode database Python ships is shown as an escape, and no other assigned character
    is (a later Unicode version may assign format characters this one leaves unassigned)."""
    import sys
    import unicodedata

    hidden = {"Cc", "Cf", "Zl", "Zp"}
    for code in range(sys.maxunicode + 1):
        char = chr(code)
        shown = terminal_safe(char)
        if unicodedata.category(char) in hidden:
            assert shown != char and shown.startswith("\\"), hex(code)
            assert int(shown[2:], 16) == code, hex(code)
        elif unicodedata.category(char) != "Cn":
            assert shown == char, hex(code)
