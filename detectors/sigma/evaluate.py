"""Matcher tree -> closures over a :class:`~detectors.sigma.view.View`.

String tests use ``str`` methods (``in``, ``startswith``, ``endswith``, ``==``) on the
lowercased value; a regular expression is compiled only for ``?`` wildcards and ``|re``.
Many OR-ed substrings on one field share one Aho-Corasick automaton.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import ahocorasick

from detectors.sigma.ir import And, Const, Leaf, Node, Not, Or
from detectors.sigma.view import View

Test = Callable[[View], bool]
Pred = Callable[[str], bool]


def build(node: Node) -> Test:
    if isinstance(node, Leaf):
        return _leaf(node)
    if isinstance(node, And):
        return _and([build(c) for c in node.children])
    if isinstance(node, Or):
        return _or([build(c) for c in node.children])
    if isinstance(node, Not):
        inner = build(node.child)
        return lambda v: not inner(v)
    if isinstance(node, Const):
        value = node.value
        return lambda v: value
    raise TypeError(f"not a matcher node: {node!r}")


def all_of(tests: list[Test]) -> Test:
    """A test true when every one of ``tests`` is."""
    return _and(tests)


def any_of(tests: list[Test]) -> Test:
    """A test true when one of ``tests`` is."""
    return _or(tests)


def _and(tests: list[Test]) -> Test:
    if len(tests) == 2:
        a, b = tests
        return lambda v: a(v) and b(v)

    def test(v: View) -> bool:
        for t in tests:  # noqa: SIM110 - a plain loop is faster than all() here
            if not t(v):
                return False
        return True

    return test


def _or(tests: list[Test]) -> Test:
    if len(tests) == 2:
        a, b = tests
        return lambda v: a(v) or b(v)

    def test(v: View) -> bool:
        for t in tests:  # noqa: SIM110 - a plain loop is faster than any() here
            if t(v):
                return True
        return False

    return test


def _leaf(leaf: Leaf) -> Test:
    op, arg, field = leaf.op, leaf.arg, leaf.field
    if op in _STRING_PREDS:
        return _on_text(field, leaf.cased, _STRING_PREDS[op](arg))
    if op == "regex":
        pattern, flags = arg
        rx = re.compile(pattern, flags)
        return _on_text(field, True, lambda s: rx.search(s) is not None)
    if field is None:
        raise ValueError(f"{op} needs a field")
    if op == "any":
        return lambda v: v.raw(field) is not None
    if op == "null":
        return lambda v: v.raw(field) is None
    if op == "exists":
        want = bool(arg)
        return lambda v: (v.raw(field) is not None) is want
    if op == "num":
        return _num(field, arg[0], arg[1])
    if op == "bool":
        return _bool(field, bool(arg))
    if op == "cidr":
        return _cidr(field, arg)
    if op == "fieldref":
        return _fieldref(field, leaf.cased, *arg)
    if op == "timepart":
        return _timepart(field, arg[0], arg[1])
    raise ValueError(f"unknown matcher {op!r}")


def _on_text(field: str | None, cased: bool, pred: Pred) -> Test:
    if field is None:
        if cased:
            return lambda v: pred(v.message)
        return lambda v: pred(v.low(None))  # type: ignore[arg-type]
    get = View.text if cased else View.low

    def test(v: View) -> bool:
        s = get(v, field)
        if s is None:
            return False
        if type(s) is str:
            return pred(s)
        for x in s:  # noqa: SIM110
            if pred(x):
                return True
        return False

    return test


def _eq(arg: str) -> Pred:
    return lambda s: s == arg


def _in(arg: frozenset[str]) -> Pred:
    return arg.__contains__


def _contains(arg: str) -> Pred:
    return lambda s: arg in s


def _contains_any(arg: tuple[str, ...]) -> Pred:
    if "" in arg:
        return lambda s: True
    if len(arg) < 4:
        return lambda s: any(n in s for n in arg)
    automaton = ahocorasick.Automaton()
    for needle in arg:
        automaton.add_word(needle, None)
    automaton.make_automaton()
    return lambda s: next(automaton.iter(s), None) is not None


def _startswith(arg: str) -> Pred:
    return lambda s: s.startswith(arg)


def _endswith(arg: str) -> Pred:
    return lambda s: s.endswith(arg)


def _glob(parts: tuple[str, ...]) -> Pred:
    """``a*b*c``: starts with a, ends with c, b in between (leftmost matching is exact)."""
    first, middle, last = parts[0], parts[1:-1], parts[-1]
    minimum = sum(len(p) for p in parts)

    def pred(s: str) -> bool:
        if len(s) < minimum or not s.startswith(first) or not s.endswith(last):
            return False
        pos, end = len(first), len(s) - len(last)
        for part in middle:
            i = s.find(part, pos, end)
            if i < 0:
                return False
            pos = i + len(part)
        return True

    return pred


def _wildcard(pattern: str) -> Pred:
    rx = re.compile(pattern, re.DOTALL)
    return lambda s: rx.fullmatch(s) is not None


_STRING_PREDS: dict[str, Callable[[Any], Pred]] = {
    "eq": _eq,
    "in": _in,
    "contains": _contains,
    "contains_any": _contains_any,
    "startswith": _startswith,
    "endswith": _endswith,
    "glob": _glob,
    "wildcard": _wildcard,
}


def _number(value: Any) -> float | int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return value
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


_COMPARE: dict[str, Callable[[float, float], bool]] = {
    "lt": lambda a, b: a < b,
    "lte": lambda a, b: a <= b,
    "gt": lambda a, b: a > b,
    "gte": lambda a, b: a >= b,
    "neq": lambda a, b: a != b,
}


def _num(field: str, op: str, n: int | float) -> Test:
    if op == "eq":
        text = str(n)

        def one_eq(x: Any) -> bool:
            if isinstance(x, bool):
                return False
            if isinstance(x, int | float):
                return bool(x == n)
            return isinstance(x, str) and x.strip() == text

        return _each(field, one_eq)
    compare = _COMPARE[op]

    def one(x: Any) -> bool:
        num = _number(x)
        return num is not None and compare(num, n)

    return _each(field, one)


def _bool(field: str, want: bool) -> Test:
    text = "true" if want else "false"

    def one(x: Any) -> bool:
        if isinstance(x, bool):
            return x is want
        return isinstance(x, str) and x.strip().lower() == text

    return _each(field, one)


def _each(field: str, one: Callable[[Any], bool]) -> Test:
    def test(v: View) -> bool:
        x = v.raw(field)
        if isinstance(x, list | tuple):
            return any(one(i) for i in x)
        return x is not None and one(x)

    return test


def _cidr(field: str, networks: tuple[tuple[int, int, int], ...]) -> Test:
    def test(v: View) -> bool:
        addr = v.ip(field)
        if addr is None:
            return False
        version, n = addr
        for net_version, first, last in networks:
            if version == net_version and first <= n <= last:
                return True
        return False

    return test


def _fieldref(field: str, cased: bool, other: str, starts: bool, ends: bool) -> Test:
    get = View.text if cased else View.low
    if starts and ends:
        pred: Callable[[str, str], bool] = lambda a, b: b in a  # noqa: E731
    elif starts:
        pred = lambda a, b: a.startswith(b)  # noqa: E731
    elif ends:
        pred = lambda a, b: a.endswith(b)  # noqa: E731
    else:
        pred = lambda a, b: a == b  # noqa: E731

    def test(v: View) -> bool:
        a, b = get(v, field), get(v, other)
        if a is None or b is None:
            return False
        left = (a,) if isinstance(a, str) else a
        right = (b,) if isinstance(b, str) else b
        return any(pred(x, y) for x in left for y in right)

    return test


def _timepart(field: str, unit: str, number: int | float) -> Test:
    def test(v: View) -> bool:
        value = v.raw(field)
        if value is None and field in ("@timestamp", "timestamp"):
            value = v.event.timestamp
        moment = _moment(value)
        return moment is not None and _part(moment, unit) == number

    return test


def _moment(value: Any) -> datetime | None:
    try:
        if isinstance(value, int | float) and not isinstance(value, bool):
            seconds = value / 1000 if value > 1e11 else value
            return datetime.fromtimestamp(seconds, tz=UTC)
        if isinstance(value, str):
            moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
            return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    except (ValueError, OverflowError, OSError):
        return None
    return None


def _part(moment: datetime, unit: str) -> int:
    if unit == "minute":
        return moment.minute
    if unit == "hour":
        return moment.hour
    if unit == "day":
        return moment.day
    if unit == "week":
        return moment.isocalendar()[1]
    if unit == "month":
        return moment.month
    return moment.year

