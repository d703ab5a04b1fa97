"""Literal prefilter: which rules can possibly match an event, decided with a few scans.

For each matcher we derive from its condition a set of *required literals*: pairs
``(field, text)`` such that whenever the matcher matches, at least one ``text`` occurs in
the lowercased value of its ``field`` (``None``: the raw message). AND keeps the most
selective child's set, OR unites its children's sets, NOT and tests without a literal
(numeric comparisons, ``exists``, ``null``, field references ...) give "no prefilter".
Regular expressions give the literals :mod:`.regex_literals` finds in them.

:mod:`.index` builds one Aho-Corasick automaton per field from them, whose words are the
literals and whose values are bit masks of the matchers needing them: one scan of each
field, whatever the number of rules.

Exactness: the derived sets never exclude a matcher that would match (a property test
compares prefiltered and brute-force evaluation). Literals and scanned text are both
lowercased and folded (:data:`FOLD`), a per-character mapping, so a literal that occurs in
a value (whatever its case, for case-sensitive tests) occurs in the folded value.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import ahocorasick

from detectors.sigma.ir import And, Const, Leaf, Node, Not, Or
from detectors.sigma.regex_literals import required_literals

Need = frozenset[tuple[str | None, str]] | None
"""Required literals ``(field, lowercase text)``, or None: no usable prefilter."""

FOLD = {0x131: "i", 0x17F: "s", 0x3C2: "\u03c3", 0x307: None}
"""Applied after lowercasing, to literals and scanned text alike: dotless i and long s
(which ``re``'s IGNORECASE matches with i and s), final sigma (whose lowercase depends on
context) and the combining dot that lowercasing İ adds. Every mapping is per character,
so a substring stays a substring."""


def required(node: Node) -> Need:
    if isinstance(node, Leaf):
        return _leaf(node)
    if isinstance(node, And):
        best: Need = None
        for child in node.children:
            need = required(child)
            if need is not None and (best is None or _score(need) > _score(best)):
                best = need
        return best
    if isinstance(node, Or):
        union: set[tuple[str | None, str]] = set()
        for child in node.children:
            need = required(child)
            if need is None:
                return None
            union |= need
        return frozenset(union)
    if isinstance(node, Const):
        return None if node.value else frozenset()
    if isinstance(node, Not):
        return None
    return None


LOW_CARDINALITY = frozenset({
    "http.response.status_code", "http.request.method", "http.version", "event.outcome",
    "event.action", "event.category", "event.kind", "event.type", "network.protocol",
    "network.transport", "process.name", "log.level",
})
"""Fields with few distinct values: a literal there matches many events whatever its
length, so any literal elsewhere is preferred."""


def _score(need: frozenset[tuple[str | None, str]]) -> tuple[int, int]:
    """Higher is more selective: the shortest literal first, then fewer literals."""
    if not need:
        return (1 << 30, 0)
    shortest = min(1 if field in LOW_CARDINALITY else len(text) for field, text in need)
    return (shortest, -len(need))


def _leaf(leaf: Leaf) -> Need:
    op, arg = leaf.op, leaf.arg
    texts: Iterable[str | None]
    if op in ("eq", "contains", "startswith", "endswith"):
        texts = [arg]
    elif op in ("in", "contains_any"):
        texts = arg
    elif op == "glob":  # every part occurs: the longest one will do
        texts = [max(arg, key=len)]
    elif op in ("wildcard", "regex"):
        pattern, flags = (arg, 0) if op == "wildcard" else arg
        found = required_literals(pattern, flags, raw=op == "regex" or leaf.cased)
        if found is None:
            return None
        texts = found
    elif op == "num" and arg[0] == "eq" and type(arg[1]) is int:
        texts = [str(arg[1])]
    elif op == "bool":
        texts = ["true" if arg else "false"]
    elif op == "cidr":
        texts = [_cidr_prefix(*net) for net in arg]
    else:
        return None
    out: set[tuple[str | None, str]] = set()
    for text in texts:
        folded = fold(text) if text else ""
        if not folded:
            return None
        out.add((leaf.field, folded))
    return frozenset(out)


def fold(text: str) -> str:
    """Lowercase and fold as the scanned text is folded (see :data:`FOLD`)."""
    return text.lower().translate(FOLD)


def _cidr_prefix(version: int, first: int, last: int) -> str | None:
    if version != 4:
        return None
    size = last - first + 1
    prefix_len = 32 - (size.bit_length() - 1)
    fixed = prefix_len // 8
    if fixed == 0:
        return None
    octets = [str((first >> (24 - 8 * i)) & 0xFF) for i in range(4)]
    return ".".join(octets) if fixed == 4 else ".".join(octets[:fixed]) + "."


def build_automaton(literals: dict[str, int]) -> Any:
    """An Aho-Corasick automaton whose words are the literals, valued by their masks."""
    automaton = ahocorasick.Automaton()
    for text, mask in literals.items():
        automaton.add_word(text, mask)
    automaton.make_automaton()
    return automaton


def scan(automaton: Any, text: str | tuple[str, ...] | None) -> int:
    """OR of the masks of the literals occurring in ``text`` (lowercased, unfolded)."""
    if text is None:
        return 0
    if type(text) is not str:
        text = "\n".join(text)
    if not text.isascii():
        text = text.translate(FOLD)
    mask = 0
    for _, bits in automaton.iter(text):
        mask |= bits
    return mask
