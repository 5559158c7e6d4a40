"""Host ranges: ``web[01:20].example.com``, ``db-[a:f]``, ``node[1:10:2]``.

The only place range syntax lives; the native and Ansible loaders both call
:func:`expand_pattern`. Semantics follow Ansible's ``expand_hostname_range``: ``[start:end]``
or ``[start:end:stride]``, both ends inclusive; a numeric start with a leading zero pads every
number to its width (so ``01`` and ``20`` must have the same width); a letter range runs over
``a-z`` then ``A-Z``; several ranges in one name multiply. One pattern may not produce more
than :data:`MAX_HOSTS` names: a typo like ``web[1:100000]`` must fail, not hang the run.
"""

from __future__ import annotations

import re
import string

MAX_HOSTS = 10_000
_RANGE = re.compile(r"\[([^\[\]]*)\]")
_LETTERS = string.ascii_letters
_NUMBER = re.compile(r"[0-9]+")


class RangeError(ValueError):
    """A malformed or too large host range."""


def expand_pattern(text: str) -> list[str]:
    """Every name ``text`` stands for, in order; ``text`` itself when it has no range."""
    match = _RANGE.search(text)
    if match is None:
        if "[" in text or "]" in text:
            raise RangeError(f"{text!r}: unbalanced '[' or ']' in a host range")
        return [text]
    head, tail = text[: match.start()], text[match.end() :]
    names: list[str] = []
    for item in _items(match.group(1), text):
        for name in expand_pattern(head + item + tail):
            names.append(name)
            if len(names) > MAX_HOSTS:
                raise RangeError(f"{text!r} expands to more than {MAX_HOSTS} hosts")
    return names


def _items(spec: str, text: str) -> list[str]:
    """The values of one ``start:end[:stride]`` range."""
    bounds = spec.split(":")
    if len(bounds) not in (2, 3) or not bounds[1]:
        raise RangeError(f"{text!r}: a host range is [start:end] or [start:end:stride]")
    start, end = bounds[0] or "0", bounds[1]
    stride = _stride(bounds[2] if len(bounds) == 3 else "1", text)
    if _NUMBER.fullmatch(start) and _NUMBER.fullmatch(end):
        return _numbers(start, end, stride, text)
    if len(start) == 1 and len(end) == 1 and start in _LETTERS and end in _LETTERS:
        first, last = _LETTERS.index(start), _LETTERS.index(end)
        if first > last:
            raise RangeError(f"{text!r}: a host range must have start <= end")
        return list(_LETTERS[first : last + 1 : stride])
    raise RangeError(f"{text!r}: range bounds must be two numbers or two single letters")


def _numbers(start: str, end: str, stride: int, text: str) -> list[str]:
    width = len(start) if start.startswith("0") and len(start) > 1 else 0
    if width and len(end) != width:
        raise RangeError(f"{text!r}: a zero-padded range needs start and end of equal width")
    first, last = int(start), int(end)
    if first > last:
        raise RangeError(f"{text!r}: a host range must have start <= end")
    if (last - first) // stride + 1 > MAX_HOSTS:
        raise RangeError(f"{text!r} expands to more than {MAX_HOSTS} hosts")
    return [str(number).zfill(width) for number in range(first, last + 1, stride)]


def _stride(text: str, pattern: str) -> int:
    if not _NUMBER.fullmatch(text) or int(text) < 1:
        raise RangeError(f"{pattern!r}: a range stride must be a positive number")
    return int(text)
