"""Header expressions compiled to predicates, once per rule at load.

:func:`detectors.netrules.vars.matches` walks an expression for every check; a rule's
header is checked for every candidate event (and, for raw payload rules, for every flow
before its payload is scanned), so each expression becomes a closure instead: ranges of a
list merged into sorted disjoint intervals and found by bisection, single addresses in a
set, negations and nested lists composed. ``fits(expr)(v) == matches(expr, v)`` for every
expression and value (tests/detectors/netrules/test_fits.py checks it on random ones).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Sequence
from typing import cast

from detectors.netrules.vars import AnyValue, Expr, Group, NetRange, Not, PortRange

Fits = Callable[[object], bool]
Intervals = tuple[list[int], list[int]]  # sorted disjoint [lo, hi] ranges: los, his


def _true(value: object) -> bool:
    return True


def _never(value: object) -> bool:
    return False


def _intervals(ranges: Sequence[NetRange | PortRange]) -> Intervals:
    los: list[int] = []
    his: list[int] = []
    for r in sorted(ranges, key=lambda r: (r.lo, r.hi)):
        if los and r.lo <= his[-1] + 1:
            his[-1] = max(his[-1], r.hi)
        else:
            los.append(r.lo)
            his.append(r.hi)
    return los, his


def _within(iv: Intervals, value: int) -> bool:
    los, his = iv
    i = bisect_right(los, value) - 1
    return i >= 0 and value <= his[i]


def _part(items: Sequence[Expr]) -> tuple[Intervals, tuple[Fits, ...], bool]:
    """Plain ranges as intervals, the rest as predicates; whether ``any`` is among them."""
    ranges = [i for i in items if isinstance(i, NetRange | PortRange)]
    rest = tuple(fits(i) for i in items
                 if not isinstance(i, NetRange | PortRange | AnyValue))
    return _intervals(ranges), rest, any(isinstance(i, AnyValue) for i in items)


def fits(expr: Expr) -> Fits:
    """A predicate equal to ``lambda v: matches(expr, v)``."""
    if isinstance(expr, AnyValue):
        return _true
    if isinstance(expr, NetRange | PortRange):
        lo, hi = expr.lo, expr.hi

        def in_range(value: object) -> bool:
            return isinstance(value, int) and lo <= value <= hi
        return in_range
    if isinstance(expr, Not):
        inner = fits(expr.inner)

        def negated(value: object) -> bool:
            return value is not None and not inner(value)
        return negated
    if isinstance(expr, Group):
        return _group(expr)
    return _never  # pragma: no cover - Expr has no other kind


def _group(g: Group) -> Fits:
    neg_iv, neg_rest, neg_any = _part(g.neg)
    pos_iv, pos_rest, pos_any = _part(g.pos)
    neg_hosts, pos_hosts = g.neg_hosts, g.pos_hosts
    open_list = not g.pos and not g.pos_hosts  # only exclusions: the rest fits

    def group(value: object) -> bool:
        if value is None:
            return False
        if neg_any or value in neg_hosts:
            return False
        is_int = isinstance(value, int)
        if is_int and neg_iv[0] and _within(neg_iv, cast(int, value)):
            return False
        for f in neg_rest:
            if f(value):
                return False
        if open_list or pos_any or value in pos_hosts:
            return True
        if is_int and pos_iv[0] and _within(pos_iv, cast(int, value)):
            return True
        return any(f(value) for f in pos_rest)
    return group
