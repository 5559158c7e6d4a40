"""Load YAML safely while remembering where every key came from.

Inventory and policy errors must name the file, the line and the key. PyYAML's composed
node tree knows the positions; this module keeps them beside the plain data and turns a
key into an :class:`~fleetaudit.errors.InputError` at the right line (:mod:`.validation`
does it for pydantic's ``ValidationError``).
Only ``yaml.SafeLoader`` is used: no Python objects, no tags, nothing evaluated.

PyYAML reads YAML 1.1, whose integers include spellings a person rarely means: ``023`` is
octal (19), ``0x17`` hexadecimal, ``2_3`` drops the underscore and ``1:30`` is base 60 (90).
Those are refused with their position and the decimal to write instead (:func:`check_number`).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Hashable, Sequence
from dataclasses import dataclass, field
from difflib import get_close_matches
from pathlib import Path
from typing import Any

import yaml

from fleetaudit.errors import InputError, read_utf8, together
from fleetaudit.yamlaliases import refuse_alias_bombs

Loc = tuple[str | int, ...]

# libyaml's parser when PyYAML was built with it (the wheels are): an inventory of thousands
# of hosts parses in milliseconds instead of seconds. Same safe constructor either way.
SAFE_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class YamlDocument:
    """Parsed YAML data plus the (line, column) of every mapping key and sequence item,
    both 1-based, keyed by the path to the value."""

    path: str
    data: Any
    positions: dict[Loc, tuple[int, int]] = field(default_factory=dict)

    def position(self, loc: Sequence[str | int]) -> tuple[int | None, int | None]:
        """The position of the deepest prefix of ``loc`` that the file defines."""
        for end in range(len(loc), -1, -1):
            hit = self.positions.get(tuple(loc[:end]))
            if hit is not None:
                return hit
        return None, None


def load_yaml(path: Path, error_cls: type[InputError]) -> YamlDocument:
    """Read and parse ``path``; any problem becomes ``error_cls`` with file and line."""
    return parse_yaml(read_utf8(path, error_cls), str(path), error_cls)


def parse_yaml(text: str, source: str, error_cls: type[InputError]) -> YamlDocument:
    """Parse YAML text from ``source`` (a path or a label such as ``<stdin>``): one pass
    builds the node tree, whose positions are recorded, then the data from those nodes."""
    loader = SAFE_LOADER(text)
    try:
        node = _compose(loader, text, source, error_cls)
        if node is None:
            return YamlDocument(source, None)
        positions: dict[Loc, tuple[int, int]] = {}
        refuse_alias_bombs(node, source, error_cls)
        try:
            problems: list[InputError] = []
            _walk(node, (), positions, source, error_cls, problems)
            if problems:  # an anchor's problem is met once per alias: said once, the first
                once: dict[tuple[int | None, int | None, str], InputError] = {}
                for problem in problems:
                    once.setdefault((problem.line, problem.column, problem.message), problem)
                raise together(list(once.values()))
            data = loader.construct_document(node)
        except RecursionError as exc:
            raise error_cls("invalid YAML: nested too deeply", path=source) from exc
        except yaml.YAMLError as exc:
            raise yaml_error(exc, text, source, error_cls) from exc
        except (ValueError, TypeError, OverflowError) as exc:
            raise tagged_value_error(exc, text, source, error_cls) from None
        return YamlDocument(source, data, positions)
    finally:
        loader.dispose()


def _compose(loader: Any, text: str, source: str, error_cls: type[InputError]) -> yaml.Node | None:
    try:
        node: yaml.Node | None = loader.get_single_node()
    except yaml.YAMLError as exc:
        raise yaml_error(exc, text, source, error_cls) from exc
    return node


def tagged_value_error(
    exc: Exception, text: str, source: str, error_cls: type[InputError]
) -> InputError:
    """``error_cls`` for a value PyYAML could not build as its explicit tag says (``!!int
    abc``): a plain ValueError without a place, which was an internal error (QA). It is
    placed at the first explicit tag of the text."""
    before = text[: text.find("!!")] if "!!" in text else None
    line = before.count("\n") + 1 if before is not None else None
    return error_cls(
        f"invalid YAML: a value is not what its tag says ({exc}); write the plain value",
        path=source,
        line=line,
    )


def yaml_error(
    exc: yaml.YAMLError, text: str, source: str, error_cls: type[InputError]
) -> InputError:
    """PyYAML's error as ``error_cls`` at its line and column, in words: ``str(exc)``
    quoted PyYAML's own marks (``in "<unicode string>", line 2``) with escaped newlines,
    and its problem alone could be half a sentence ("but found another document")."""
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    context = getattr(exc, "context", None)
    if context and problem.startswith("but "):
        problem = f"{context}, {problem}"
    line = mark.line + 1 if mark is not None else None
    column = mark.column + 1 if mark is not None else None
    if line is not None and column is not None and "tab" not in problem:
        if _character_at(text, line, column) == "\t":
            # PyYAML names a tab only where it breaks indentation, not at a line's start
            problem += ": a tab character (YAML indents with spaces only)"
    if "!vault" in problem:
        problem += (
            " (an Ansible vault value: make the inventory with `ansible-inventory -i SRC "
            "--vault-password-file F --list > inv.json` and pass inv.json)"
        )
    elif "constructor for the tag" in problem:
        problem += " (tags are not read: write the plain value)"
    return error_cls(f"invalid YAML: {problem}", path=source, line=line, column=column)


def _character_at(text: str, line: int, column: int) -> str:
    """The character at 1-based ``line`` and ``column`` of ``text`` ("" past its end)."""
    lines = text.split("\n", line)
    return lines[line - 1][column - 1 : column] if len(lines) >= line else ""


def _walk(
    node: yaml.Node,
    loc: Loc,
    out: dict[Loc, tuple[int, int]],
    source: str,
    error_cls: type[InputError],
    problems: list[InputError],
) -> None:
    """Record the position of every key and item under ``node`` in ``out``, and add to
    ``problems`` every duplicate key, key that is no name, impossible date and ambiguous
    number: all of them are said at once, not one per run (QA)."""
    out.setdefault(loc, (node.start_mark.line + 1, node.start_mark.column + 1))
    if isinstance(node, yaml.MappingNode):
        seen: set[Hashable] = set()
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node)
            if key in seen:
                message = "duplicate key (YAML would silently keep only the last one)"
                problems.append(_at_node(error_cls, message, key_node, (*loc, key), source))
                continue
            if (problem := name_problem(key_node)) is not None:
                problems.append(_at_node(error_cls, problem, key_node, loc, source))
            seen.add(key)
            child = (*loc, key)
            out[child] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            _walk(value_node, child, out, source, error_cls, problems)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk(item, (*loc, index), out, source, error_cls, problems)
    elif isinstance(node, yaml.ScalarNode):
        for check in (check_date, check_number):
            try:
                check(node, loc, source, error_cls)
            except InputError as problem:
                problems.append(problem)


def name_problem(key: yaml.Node) -> str | None:
    """Why the mapping key ``key`` is no name (an unquoted ``yes``, ``123``, ``null``), None
    when it is one. Every key of an inventory or a policy is a name (a host, a group, a
    setting): a host named ``false`` became a host named ``False``, or an error saying only
    that a string was expected."""
    kind = _NOT_A_NAME.get(key.tag) if isinstance(key, yaml.ScalarNode) else None
    if kind is None:
        return None
    return f"{key.value} is read by YAML as {kind}, not as a name: quote it ('{key.value}')"


_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_NOT_A_NAME = {
    "tag:yaml.org,2002:bool": "a boolean",
    "tag:yaml.org,2002:int": "a number",
    "tag:yaml.org,2002:float": "a number",
    "tag:yaml.org,2002:null": "null (nothing)",
    _TIMESTAMP: "a date",
}
"""What YAML 1.1 makes of the unquoted keys that are no names, by their resolved tag."""


def check_date(node: yaml.ScalarNode, loc: Loc, source: str, error_cls: type[InputError]) -> None:
    """Refuse an unquoted date YAML resolves as a timestamp but the calendar lacks
    (2020-02-30): PyYAML would fail later, while building the data, with a bare ValueError
    and no position. Call it on every scalar node before the data is built."""
    if node.tag != _TIMESTAMP:
        return
    try:
        yaml.SafeLoader.construct_yaml_timestamp(yaml.SafeLoader(""), node)
    except ValueError as exc:
        raise _at_node(error_cls, f"invalid date {node.value!r}: {exc}", node, loc, source) from exc


_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_PLAIN_INT = re.compile(r"[-+]?(?:0|[1-9][0-9]*)")


def check_number(node: yaml.ScalarNode, loc: Loc, source: str, error_cls: type[InputError]) -> None:
    """Refuse a number written in a YAML 1.1 form other than plain decimal (``023``,
    ``0x17``, ``0b10``, ``2_3``, ``1:30``): YAML silently reads another value than the one
    the writer meant, so ``port: 023`` would be port 19. The error says what to write."""
    if node.tag == _INT and not _PLAIN_INT.fullmatch(node.value):
        problem = _int_problem(node.value)
    elif node.tag == _FLOAT and ("_" in node.value or ":" in node.value):
        problem = (
            f"{node.value!r} is a YAML 1.1 number spelling (digit separators or base 60); "
            "write the plain decimal number, or quote it if it is text"
        )
    else:
        return
    raise _at_node(error_cls, problem, node, loc, source)


def _at_node(
    error_cls: type[InputError], message: str, node: yaml.Node, loc: Loc, source: str
) -> InputError:
    """``message`` as an error at ``node``'s line and column, under the key ``loc``."""
    return error_cls(
        message,
        path=source,
        line=node.start_mark.line + 1,
        column=node.start_mark.column + 1,
        key=dotted(loc) if loc else None,
    )


def _int_problem(text: str) -> str:
    """Why the integer ``text`` is ambiguous, and the decimal to write instead."""
    read = yaml.SafeLoader.construct_yaml_int(yaml.SafeLoader(""), yaml.ScalarNode(_INT, text))
    digits = text.replace("_", "")
    unsigned = digits.lstrip("+-")
    if ":" in text:
        return (
            f"{text!r} is a base-60 number in YAML 1.1 ({read}); "
            f"write {read}, or quote it if it is text"
        )
    if unsigned[:2] in ("0x", "0b"):
        base = "hexadecimal" if unsigned[1] == "x" else "binary"
        return f"{text!r} is a {base} number ({read}); write it in decimal: {read}"
    meant = int(digits, 10)
    if unsigned.startswith("0") and unsigned.strip("0"):
        return f"{text!r} has a leading zero, which YAML 1.1 reads as octal ({read}); write {meant}"
    if "_" in text:
        return f"{text!r} has '_' digit separators, which YAML 1.1 drops ({read}); write {meant}"
    return f"{text!r} is not a plain decimal number (YAML reads {read}); write {meant}"


def located_error(
    doc: YamlDocument, error_cls: type[InputError], message: str, loc: Loc
) -> InputError:
    """``error_cls`` about the key at ``loc``: the file, its line and column, the dotted key."""
    line, column = doc.position(loc)
    return error_cls(message, path=doc.path, line=line, column=column, key=dotted(loc))


def dotted(loc: Sequence[str | int]) -> str:
    return ".".join(str(part) for part in loc)


MISSPELT_REQUIRED = "unknown key (did you mean {!r}? it is required)"
"""The error of a key that is a misspelling of a required key the mapping lacks."""


def misspelling_of(
    required: str, mapping: dict[Any, Any], known: Collection[str] = ()
) -> str | None:
    """The key of ``mapping``, none of the ``known`` ones, that looks like a misspelt
    ``required`` key, if any."""
    keys = [key for key in mapping if isinstance(key, str) and key not in {required, *known}]
    close = get_close_matches(required, keys, n=1, cutoff=0.75)
    return close[0] if close else None
