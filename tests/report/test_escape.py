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


DEFAULT_IGNORABLE = (
    (0x034F, 0x034F), (0x115F, 0x1160), (0x17B4, 0x17B5), (0x180B, 0x180F), (0x2065, 0x2065),
    (0x3164, 0x3164), (0xFE00, 0xFE0F), (0xFFA0, 0xFFA0), (0xFFF0, 0xFFF8),
    (0xE0000, 0xE0FFF),
)  # fmt: skip
"""Unicode's Default_Ignorable_Code_Point ranges (DerivedCoreProperties.txt) that are not
format characters: shown as nothing when assigned."""


def test_every_invisible_or_text_moving_character_is_escaped():
    """QA: a zero-width space passed through while the right-to-left override next to it
    was escaped. Every control, format, line/paragraph separator, look-alike space and
    default-ignorable character of the Unicode database Python ships, and every
    noncharacter, is shown as an escape; no other assigned character is (a later Unicode
    version may assign format characters this one leaves unassigned)."""
    import sys
    import unicodedata

    hidden = {"Cc", "Cf", "Zl", "Zp", "Zs"}
    for code in range(sys.maxunicode + 1):
        char = chr(code)
        category = unicodedata.category(char)
        escaped = (
            (category in hidden and char != " ")
            or 0xFDD0 <= code <= 0xFDEF
            or code & 0xFFFE == 0xFFFE
            or any(low <= code <= high for low, high in DEFAULT_IGNORABLE)
        )
        shown = terminal_safe(char)
        if escaped:
            assert shown != char and shown.startswith("\\"), hex(code)
            assert int(shown[2:], 16) == code, hex(code)
        elif category != "Cn":
            assert shown == char, hex(code)


def test_invisible_marks_and_fillers_are_escaped_and_visible_letters_are_not():
    """QA: a combining grapheme joiner, a variation selector or a Hangul filler makes a
    name look like another; an accent or a CJK character is a name."""
    for invisible in ("\u034f", "\ufe0f", "\U000e0100", "\u3164", "\u115f", "\u17b4"):
        assert terminal_safe(f"ss{invisible}hd") == f"ss\\u{ord(invisible):04x}hd" or (
            terminal_safe(f"ss{invisible}hd") == f"ss\\U{ord(invisible):08x}hd"
        )
    for visible in ("e\u0301", "\u65e5\u672c", "\u03a9mega", "\u00e4"):
        assert terminal_safe(visible) == visible


def test_junit_stays_well_formed_xml_with_noncharacters_in_a_name():
    """QA: U+FFFF in a process name (a user can set their own) made the JUnit file
    invalid XML, and a CI server that cannot parse it loses every finding of the fleet."""
    from xml.etree import ElementTree

    from fleetaudit.report import JunitFormatter
    from tests.factories import finding, run_result, snapshot, sock

    socket = sock(process="ev\uffffil\ufffe")
    run = run_result((snapshot("web1", socket),), (finding("web1", socket),))
    ElementTree.fromstring(JunitFormatter().render(run))
