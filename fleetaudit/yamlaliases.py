"""YAML aliases judged before anything expands them: aliases of aliases (a "billion
laughs") make a 1 kB file expand to hundreds of millions of values, and an inventory of
that kind took minutes and gigabytes (QA). Used by every YAML loader of fleetaudit."""

from __future__ import annotations

import yaml

from fleetaudit.errors import InputError

ALIAS_FLOOR = 100_000
"""Nodes a document may expand to, whatever its own size, before aliases are judged."""
ALIAS_RATIO = 1_000
"""How many times its own number of nodes a document may expand to through aliases:
``<<: *defaults`` in every host of a large inventory stays below 5, 80 groups sharing one
anchored list of 400 hosts about 75; a "billion laughs" (aliases of aliases, nine deep)
expands a few dozen nodes into hundreds of millions."""


def refuse_alias_bombs(root: yaml.Node, source: str, error_cls: type[InputError]) -> None:
    """``error_cls`` when aliases make the document expand far beyond its own size, at the
    key where it expands: a 1 kB file of nested aliases took minutes and gigabytes (QA).
    Sizes are counted once per node, without expanding anything, and without recursion
    (a document nested a thousand deep is valid YAML)."""
    sizes: dict[int, int] = {}  # -1 while a node's children are being counted
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:  # bounded: each node is pushed once as itself and once as counted
        node, counted = stack.pop()
        if counted:
            sizes[id(node)] = 1 + sum(sizes[id(child)] for child in _children(node))
            continue
        if id(node) in sizes:
            if sizes[id(node)] < 0:  # met again below itself: it contains itself
                raise error_cls("invalid YAML: an alias inside its own anchor", path=source,
                                line=node.start_mark.line + 1)  # fmt: skip
            continue
        sizes[id(node)] = -1
        stack.append((node, True))
        stack.extend((child, False) for child in _children(node))
    expanded = sizes[id(root)]
    if expanded <= max(ALIAS_FLOOR, ALIAS_RATIO * len(sizes)):
        return
    worst = _where_it_expands(root, sizes)
    raise error_cls(
        f"invalid YAML: aliases expand this document to {expanded:,} values from "
        f"{len(sizes):,} written (a \"billion laughs\"?); write the values out",
        path=source, line=worst.start_mark.line + 1, column=worst.start_mark.column + 1,
    )  # fmt: skip


def _children(node: yaml.Node) -> list[yaml.Node]:
    """A mapping's keys and values, a sequence's items; nothing for a scalar."""
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _where_it_expands(root: yaml.Node, sizes: dict[int, int]) -> yaml.Node:
    """The key under which most of the expansion happens: down from the root, into the
    largest value while it holds a third of its parent's size at least (an Ansible
    inventory's ``all:`` at line 1 said nothing; QA)."""
    node, key = root, root
    for _ in range(len(sizes)):  # bounded: each step goes one level down a finite tree
        children = (
            list(node.value)
            if isinstance(node, yaml.MappingNode)
            else [(None, item) for item in node.value]
            if isinstance(node, yaml.SequenceNode)
            else []
        )
        if not children:
            break
        # the last of equals: an alias is written after its anchor, and is where it expands
        label, largest = max(reversed(children), key=lambda pair: sizes[id(pair[1])])
        if sizes[id(largest)] * 3 < sizes[id(node)]:
            break
        node, key = largest, label or key
    return key
