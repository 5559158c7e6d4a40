"""Make remote text safe to print: a hostile host must not drive the operator's terminal.

Process names, error messages and addresses come from the audited hosts. An ``ESC`` in a
process name could recolour, hide or rewrite what the terminal shows; bidirectional
overrides can make text read differently from what it is, and zero-width characters make
two different names look the same.
"""

from __future__ import annotations

import re

_UNSAFE = re.compile(
    "[\x00-\x1f\x7f-\x9f\xad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e"
    "\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb"
    "\U000110bd\U000110cd\U00013430-\U0001343f\U0001bca0-\U0001bca3"
    "\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f]"
)
"""Every control (C0, DEL, C1), format (Cf: bidi controls, zero-width characters, the
invisible "tag" letters that can smuggle text past a reader) and line or paragraph
separator character: each is invisible, or moves or hides other text."""


def _escape_char(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def terminal_safe(text: str) -> str:
    """``text`` with every control, format or separator character replaced by a visible
    escape."""
    return _UNSAFE.sub(_escape_char, text)
