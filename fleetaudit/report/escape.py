"""Make remote text safe to print: a hostile host must not drive the operator's terminal.

Process names, error messages and addresses come from the audited hosts. An ``ESC`` in a
process name could recolour, hide or rewrite what the terminal shows; bidirectional
overrides can make text read differently from what it is, and zero-width characters make
two different names look the same.
"""

from __future__ import annotations

import re

_UNSAFE = re.compile(
    # controls (C0, DEL, C1) and every format character (Cf)
    "[\x00-\x1f\x7f-\x9f\xad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e"
    "\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb"
    "\U000110bd\U000110cd\U00013430-\U0001343f\U0001bca0-\U0001bca3"
    "\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f"
    # spaces other than the space, which look like it (Zs)
    "\xa0\u1680\u2000-\u200a\u202f\u205f\u3000"
    # the other default-ignorable characters, which show nothing: combining grapheme
    # joiner, Hangul fillers, Khmer inherent vowels, variation selectors...
    "\u034f\u115f\u1160\u17b4\u17b5\u180b-\u180f\u2065\u3164\ufe00-\ufe0f\uffa0"
    "\ufff0-\ufff8\U000e0000\U000e0002-\U000e001f\U000e0080-\U000e0fff"
    # noncharacters, which XML (JUnit, HTML) may not hold at all
    "\ufdd0-\ufdef\ufffe\uffff\U0001fffe\U0001ffff\U0002fffe\U0002ffff"
    "\U0003fffe\U0003ffff\U0004fffe\U0004ffff\U0005fffe\U0005ffff\U0006fffe\U0006ffff"
    "\U0007fffe\U0007ffff\U0008fffe\U0008ffff\U0009fffe\U0009ffff\U000afffe\U000affff"
    "\U000bfffe\U000bffff\U000cfffe\U000cffff\U000dfffe\U000dffff\U000efffe\U000effff"
    "\U000ffffe\U000fffff\U0010fffe\U0010ffff]"
)
"""What remote text must not carry to a screen, page or XML file as it is: characters that
are invisible, look like others, move or hide other text (bidi controls, zero-width and
"tag" characters that can smuggle text past a reader), or that XML forbids."""


def _escape_char(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def terminal_safe(text: str) -> str:
    """``text`` with every control, format, invisible, look-alike space or non-character
    replaced by a visible escape."""
    return _UNSAFE.sub(_escape_char, text)
