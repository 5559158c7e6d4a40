"""Wrapping report text without breaking what the reader must paste whole.

A privilege note ends with the sudoers line that fixes it (`` `audit ALL=(root) NOPASSWD:
/usr/bin/ss -tuanpe` ``); wrapped at one of its spaces, it reaches the operator's mail in
two lines, and pasted so it is a broken sudoers entry. Text between backquotes is kept on
one line (a line may then run past the width).
"""

from __future__ import annotations

import re
import textwrap
from typing import Any

_QUOTED = re.compile(r"`[^`\n]*`")
_GLUE = "\x00"
"""Stands for a space inside backquotes while wrapping: report text never holds one (remote
text is made safe first, every control character shown as an escape)."""


def wrap(text: str, width: int, **options: Any) -> list[str]:
    """:func:`textwrap.wrap`, never breaking a line inside backquotes (nor, unless told
    to, a long word)."""
    options.setdefault("break_long_words", False)
    glued = _QUOTED.sub(lambda quoted: quoted.group().replace(" ", _GLUE), text)
    return [line.replace(_GLUE, " ") for line in textwrap.wrap(glued, width, **options)]
