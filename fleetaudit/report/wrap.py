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

_GLUE = "\x00"
"""Stands for a space inside backquotes while wrapping: report text never holds one (remote
text is made safe first, every control character shown as an escape)."""


def wrap(text: str, width: int, **options: Any) -> list[str]:
    """:func:`textwrap.wrap`, never breaking a line inside backquotes (nor, unless told
    to, a long word)."""
    options.setdefault("break_long_words", False)
    glued = _glue_quoted(text)
    if options["break_long_words"]:
        indent = max(
            len(options.get("initial_indent", "")), len(options.get("subsequent_indent", ""))
        )
        glued = _chopped(glued, max(1, width - indent))
    return [line.replace(_GLUE, " ") for line in textwrap.wrap(glued, width, **options)]


def _chopped(text: str, size: int) -> str:
    """``text`` with every word longer than ``size`` cut into pieces of ``size``.
    textwrap breaks a long word itself, but by slicing off one line at a time, copying the
    rest each time: minutes for the megabyte-long word a hostile host can put in a reply."""
    long_word = re.compile(rf"[^\s]{{{size + 1},}}")
    return long_word.sub(
        lambda word: " ".join(
            word[0][start : start + size] for start in range(0, len(word[0]), size)
        ),
        text,
    )


def _glue_quoted(text: str) -> str:
    """``text`` with the spaces between paired backquotes glued. Pairs are taken from the
    end: fleetaudit's own quoted commands end its messages, and a lone backquote earlier, in
    text a host sent (a sudo complaint quoting `/etc/sudoers'), must not pair with them."""
    marks = [index for index, char in enumerate(text) if char == "`"]
    pieces = []
    end = len(text)
    while len(marks) >= 2:  # bounded by the number of backquotes
        closing, opening = marks.pop(), marks.pop()
        pieces.append(text[closing + 1 : end])
        pieces.append(text[opening : closing + 1].replace(" ", _GLUE))
        end = opening
    pieces.append(text[:end])
    return "".join(reversed(pieces))
