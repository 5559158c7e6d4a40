"""pydantic's ``ValidationError`` as :class:`~fleetaudit.errors.InputError`\\ s at their lines.

One validation names every problem it found, so one error is made of each (every problem of
a file reported at once, not one per edit-and-retry), at the line of the offending key.
"""

from __future__ import annotations

from collections.abc import Sequence
from difflib import get_close_matches
from typing import Any

from pydantic import ValidationError

from fleetaudit.errors import InputError, together
from fleetaudit.yamlsource import MISSPELT_REQUIRED, Loc, YamlDocument, dotted


def validation_error(
    exc: ValidationError,
    doc: YamlDocument,
    error_cls: type[InputError],
    prefix: Loc = (),
) -> InputError:
    """``exc`` as one ``error_cls`` per place it names, the first carrying the others
    (:func:`~fleetaudit.errors.together`), in file order. A misspelt required key
    (``mach:``) is both unknown and missing: its spelling is what to fix, so it is named as
    a misspelling and the "missing" error it explains is left out. ``prefix`` is where the
    validated value sits in the document."""
    errors = exc.errors(include_url=False)
    meant = {  # each unknown key that is a misspelling of a missing one: the missing one
        tuple(e["loc"]): missing
        for e in errors
        if e["type"] == "extra_forbidden" and (missing := _missing_key_like(e["loc"], errors))
    }
    explained = set(meant.values())
    problems: dict[tuple[int | None, int | None], InputError] = {}
    for error in errors:
        if error["type"] == "missing" and _as_path(error["loc"]) in explained:
            continue
        problem = _one_error(error, meant.get(tuple(error["loc"])), doc, error_cls, prefix)
        # a value of several allowed types fails once per type, at one place: said once
        problems.setdefault((problem.line, problem.column), problem)
    # by line only: pydantic's own order stays within a line (a list's item before the list)
    return together(sorted(problems.values(), key=lambda problem: problem.line or 0))


def _one_error(
    error: Any,
    meant: tuple[str, ...] | None,
    doc: YamlDocument,
    error_cls: type[InputError],
    prefix: Loc,
) -> InputError:
    """One pydantic error as ``error_cls`` at its key's line; ``meant``: the missing key an
    unknown one misspells."""
    # pydantic marks an error in a mapping's key with a "[key]" step: the key is the place
    parts = (part for part in error["loc"] if isinstance(part, str | int) and part != "[key]")
    loc: Loc = (*prefix, *parts)
    line, column = doc.position(loc)
    message = str(error["msg"]).removeprefix("Value error, ")  # pydantic's, for a ValueError
    if error["type"] == "extra_forbidden":
        message = "unknown key (check the spelling; unknown keys are never ignored)"
        if meant:
            message = MISSPELT_REQUIRED.format(meant[-1])
    elif error["type"] == "missing":
        message = "required key is missing"
    elif error["type"] == "string_type" and (read := _read_as(error.get("input"))) is not None:
        message += f": YAML read this unquoted value as {read}; quote it"
    return error_cls(message, path=doc.path, line=line, column=column, key=dotted(loc) or None)


def _as_path(loc: Sequence[str | int]) -> tuple[str, ...]:
    """A pydantic location as the key path :func:`_missing_key_like` names."""
    return tuple(str(part) for part in loc)


def _missing_key_like(
    unknown: Sequence[str | int], errors: Sequence[Any]
) -> tuple[str, ...] | None:
    """The required key missing beside the ``unknown`` one whose name is closest to it, as
    its path."""
    parent, name = tuple(unknown[:-1]), str(unknown[-1])
    missing = [
        str(e["loc"][-1])
        for e in errors
        if e["type"] == "missing" and tuple(e["loc"][:-1]) == parent
    ]
    close = get_close_matches(name, missing, n=1, cutoff=0.6)
    return (*(str(part) for part in parent), close[0]) if close else None


def _read_as(value: object) -> str | None:
    """What YAML made of an unquoted value where a name was expected (``on``, ``123``)."""
    if isinstance(value, bool):
        return "a boolean (yes/no/on/off/true/false)"
    if isinstance(value, int | float):
        return "a number"
    if value is None:
        return "null (nothing)"
    return None


REPORT_KEYS = frozenset({"schema_version", "run", "hosts"})
"""Top-level keys every fleetaudit JSON report (and ``snapshot`` file) has."""


def refuse_a_report(doc: YamlDocument, error_cls: type[InputError], meant: str) -> None:
    """``error_cls`` when ``doc`` is a fleetaudit JSON report given where ``meant`` (a
    policy, an inventory) is read: validated as one, it gave dozens of errors about keys
    (a report is JSON, and JSON is YAML), none saying what the file is."""
    if isinstance(doc.data, dict) and REPORT_KEYS <= doc.data.keys():
        raise error_cls(
            f"this is a fleetaudit JSON report (or snapshot), not {meant}: reports are read "
            "by `diff` and `merge`",
            path=doc.path,
            line=1,
        )
