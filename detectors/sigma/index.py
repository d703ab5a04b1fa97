"""The matchers of one dataset, evaluated behind the prefilter with per-value memory.

Each matcher is a bit. Per field there is a :class:`_FieldScan`: the Aho-Corasick
automaton of the literals required on that field (:mod:`.prefilter`), and the matchers
that read only that field ("owned" by it: most web rules test one field). Field values
repeat (the same paths, the same user agents), so what a value gives is remembered, up to
:data:`CACHE_SIZE` values per field (then the memory starts over):

- the *candidates* among the other matchers (those whose literal occurs in the value),
- the *verdicts* of the owned matchers (evaluated on the first sight of the value, and
  only those whose literal occurs, or that have none).

An event costs one dictionary lookup per field that some matcher cares about, plus the
evaluation of the candidates that read several fields or the raw message. The message
differs on every line and is scanned whole (keyword detections cost one scan of the raw
line per event), as are ``message``/``event.dataset`` used as field names.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from detectors.sigma.evaluate import Test, all_of, any_of, build
from detectors.sigma.ir import And, Const, Leaf, Node, Not, Or
from detectors.sigma.prefilter import Need, build_automaton, required, scan
from detectors.sigma.view import PSEUDO_FIELDS, View, value_key

CACHE_SIZE = 20_000
"""Values remembered per field."""

@dataclass
class _FieldScan:
    name: str
    automaton: Any | None
    owned: list[tuple[int, Test]] = field(default_factory=list)
    owned_mask: int = 0
    owned_free: int = 0
    """Owned matchers without literals: evaluated for every new value."""
    cache: dict[Any, int] = field(default_factory=dict)


class GroupIndex:
    def __init__(self, nodes: Sequence[Node]) -> None:
        self.size = len(nodes)
        tests = [build(node) for node in nodes]
        self._brute = tuple(tests)
        self._tests = tuple(
            test if single_field(node) is not None else _memo_parts(node)
            for node, test in zip(nodes, tests, strict=True)
        )
        needs: list[Need] = [required(n) for n in nodes]
        literals: dict[str | None, dict[str, int]] = {}
        owners: dict[str, list[tuple[int, Test, bool]]] = {}
        always = 0
        for i, (node, need) in enumerate(zip(nodes, needs, strict=True)):
            bit = 1 << i
            for fname, text in need or ():
                per_field = literals.setdefault(fname, {})
                per_field[text] = per_field.get(text, 0) | bit
            owner = single_field(node)
            if owner is not None:
                owners.setdefault(owner, []).append((bit, tests[i], need is None))
            elif need is None:
                always |= bit
        self._always = always
        message = literals.pop(None, {})
        self._message = build_automaton(message) if message else None
        scans: list[_FieldScan] = []
        for name in sorted(set(literals) | set(owners), key=str):
            assert name is not None
            words = literals.get(name)
            fs = _FieldScan(name, build_automaton(words) if words else None)
            for bit, test, free in owners.get(name, ()):
                fs.owned.append((bit, test))
                fs.owned_mask |= bit
                if free:
                    fs.owned_free |= bit
            scans.append(fs)
        self._scans = tuple(s for s in scans if s.name not in PSEUDO_FIELDS)
        self._pseudo = tuple(s for s in scans if s.name in PSEUDO_FIELDS)
        self._owned = 0
        for fs in scans:
            self._owned |= fs.owned_mask
        self.unfiltered = always.bit_count() + sum(s.owned_free.bit_count() for s in scans)

    @property
    def fields(self) -> list[str | None]:
        names: list[str | None] = [s.name for s in (*self._scans, *self._pseudo)]
        return ([None] if self._message is not None else []) + names

    def match(self, view: View) -> int:
        """Bit mask of the matchers that match the event."""
        fields = view.fields
        acc = self._always
        for fs in self._scans:
            value = fields.get(fs.name)
            key = value if type(value) is str else value_key(value)
            cache = fs.cache
            got = cache.get(key)
            if got is None:
                got = self._resolve(fs, view)
                if key is not None:
                    if len(cache) >= CACHE_SIZE:
                        cache.clear()
                    cache[key] = got
            acc |= got
        for fs in self._pseudo:
            acc |= self._resolve(fs, view)
        if self._message is not None:
            acc |= scan(self._message, view.low(None))
        hit = acc & self._owned
        todo = acc ^ hit
        tests = self._tests
        while todo:
            low = todo & -todo
            todo ^= low
            if tests[low.bit_length() - 1](view):
                hit |= low
        return hit

    def match_all(self, view: View) -> int:
        """Every matcher evaluated, no prefilter, no memory (tests compare the two)."""
        hit = 0
        for i, test in enumerate(self._brute):
            if test(view):
                hit |= 1 << i
        return hit

    @staticmethod
    def _resolve(fs: _FieldScan, view: View) -> int:
        """What the field's value gives: candidates among the other matchers, and the
        verdicts of the matchers it owns (disjoint bits)."""
        cand = scan(fs.automaton, view.low(fs.name)) if fs.automaton is not None else 0
        verdict = 0
        run = (cand & fs.owned_mask) | fs.owned_free
        if run:
            for bit, test in fs.owned:
                if bit & run and test(view):
                    verdict |= bit
        return (cand & ~fs.owned_mask) | verdict


def single_field(node: Node) -> str | None:
    """The one ordinary field a matcher reads, or None (several, the message, the
    dataset, the event time)."""
    fields = _fields(node)
    return next(iter(fields)) if fields is not None and len(fields) == 1 else None


def _fields(node: Node) -> set[str] | None:
    if isinstance(node, Leaf):
        if node.field is None or node.field in PSEUDO_FIELDS or node.op == "timepart":
            return None
        if node.op == "fieldref":
            other = node.arg[0]
            return None if other in PSEUDO_FIELDS else {node.field, other}
        return {node.field}
    if isinstance(node, And | Or):
        out: set[str] = set()
        for child in node.children:
            got = _fields(child)
            if got is None:
                return None
            out |= got
        return out
    if isinstance(node, Not):
        return _fields(node.child)
    if isinstance(node, Const):
        return set()
    return None


def _memo_parts(node: Node) -> Test:
    """A matcher reading several fields, each part reading one field remembering its
    verdict per value of that field."""
    name = single_field(node)
    if name is not None:
        return _memoised(name, build(node))
    if isinstance(node, And):
        return all_of([_memo_parts(c) for c in node.children])
    if isinstance(node, Or):
        return any_of([_memo_parts(c) for c in node.children])
    if isinstance(node, Not):
        inner = _memo_parts(node.child)
        return lambda v: not inner(v)
    return build(node)


def _memoised(name: str, test: Test) -> Test:
    cache: dict[Any, bool] = {}

    def memo(view: View) -> bool:
        value = view.fields.get(name)
        key = value if type(value) is str else value_key(value)
        if key is None:
            return test(view)
        got = cache.get(key)
        if got is None:
            got = test(view)
            if len(cache) >= CACHE_SIZE:
                cache.clear()
            cache[key] = got
        return got

    return memo
