"""Ronda's matcher tree: what a Sigma detection means, independent of pySigma's classes.

Nodes are frozen and hashable, so two rules with the same detection (a rule copied under
a new id) share one compiled matcher. :mod:`.translate` builds the tree,
:mod:`.evaluate` turns it into closures, :mod:`.prefilter` derives required literals.

A :class:`Leaf` tests one field (``field=None``: the raw message, for keyword
detections). String operations work on the lowercased value unless ``cased`` is set; their
arguments are then lowercased already.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

Op = Literal[
    "eq",  # arg: str -- whole value equals
    "in",  # arg: frozenset[str] -- whole value is one of
    "contains",  # arg: str
    "contains_any",  # arg: tuple[str, ...] -- any of the substrings
    "startswith",  # arg: str
    "endswith",  # arg: str
    "glob",  # arg: tuple[str, ...] -- plain parts around '*' wildcards
    "regex",  # arg: (pattern, flags) -- re.search
    "wildcard",  # arg: pattern -- a '?' wildcard: compiled to a regex, fullmatch
    "any",  # arg: None -- '*' alone: any non-null value
    "num",  # arg: (op, number) -- op in eq, lt, lte, gt, gte, neq
    "bool",  # arg: bool
    "cidr",  # arg: tuple[(version, first, last), ...] -- address in any network
    "null",  # arg: None -- field absent or null
    "exists",  # arg: bool
    "fieldref",  # arg: (other field, startswith, endswith)
    "timepart",  # arg: (unit, number) -- minute, hour, day, week, month, year
]


@dataclass(frozen=True, slots=True)
class Leaf:
    field: str | None
    op: Op
    arg: Any
    cased: bool = False


@dataclass(frozen=True, slots=True)
class And:
    children: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Or:
    children: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Not:
    child: Node


@dataclass(frozen=True, slots=True)
class Const:
    """Always true or always false (an empty detection after a filter, for instance)."""

    value: bool


Node = Leaf | And | Or | Not | Const

MESSAGE_FIELD = "message"
"""How keyword detections (``field=None``) name the raw message in reports."""


def all_of(children: list[Node]) -> Node:
    """AND of ``children``, flattened; a single child stands alone."""
    flat: list[Node] = []
    for child in children:
        if isinstance(child, And):
            flat.extend(child.children)
        elif isinstance(child, Const):
            if not child.value:
                return child
        else:
            flat.append(child)
    if not flat:
        return Const(True)
    return flat[0] if len(flat) == 1 else And(tuple(flat))


def any_of(children: list[Node]) -> Node:
    """OR of ``children``, flattened, with plain string tests on one field merged."""
    flat: list[Node] = []
    for child in children:
        if isinstance(child, Or):
            flat.extend(child.children)
        elif isinstance(child, Const):
            if child.value:
                return child
        else:
            flat.append(child)
    flat = _merge_literals(flat)
    if not flat:
        return Const(False)
    return flat[0] if len(flat) == 1 else Or(tuple(flat))


def negate(child: Node) -> Node:
    if isinstance(child, Not):
        return child.child
    if isinstance(child, Const):
        return Const(not child.value)
    return Not(child)


MERGE_CONTAINS_AT = 4
"""OR-ed substring tests on one field merge into one ``contains_any`` from this many on."""


def _merge_literals(nodes: list[Node]) -> list[Node]:
    """``f == a or f == b`` -> ``f in {a, b}``; many ``f contains x`` -> ``contains_any``."""
    eqs: dict[tuple[str | None, bool], set[str]] = {}
    subs: dict[tuple[str | None, bool], list[str]] = {}
    rest: list[Node] = []
    for node in nodes:
        if isinstance(node, Leaf) and node.op in ("eq", "in"):
            vals = {node.arg} if node.op == "eq" else set(node.arg)
            eqs.setdefault((node.field, node.cased), set()).update(vals)
        elif isinstance(node, Leaf) and node.op in ("contains", "contains_any"):
            vals2 = [node.arg] if node.op == "contains" else list(node.arg)
            subs.setdefault((node.field, node.cased), []).extend(vals2)
        else:
            rest.append(node)
    out: list[Node] = []
    for (field, cased), values in eqs.items():
        if len(values) == 1:
            out.append(Leaf(field, "eq", next(iter(values)), cased))
        else:
            out.append(Leaf(field, "in", frozenset(values), cased))
    for (field, cased), needles in subs.items():
        unique = tuple(dict.fromkeys(needles))
        if len(unique) >= MERGE_CONTAINS_AT:
            out.append(Leaf(field, "contains_any", unique, cased))
        else:
            out.extend(Leaf(field, "contains", n, cased) for n in unique)
    return out + rest
