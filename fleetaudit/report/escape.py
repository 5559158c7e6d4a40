"""Make remote text safe to print: a hostile host must not drive the operator's terminal.

Process names, error messages and addresses come from the audited hosts. An ``ESC`` in a
process name could recolour, hide or rewrite what the terminal shows; bidirectional
overrides can make text read differently from what it is.
"""

from __future__ import annotations

import re

# C0 controls except nothing, DEL, C1 controls, and the Unicode bidi/format controls.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _escape_char(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def terminal_safe(text: str) -> str:
    """``text`` with every control or bidi character replaced by a visible escape."""
    return _UNSAFE.sub(_escape_char, text)
