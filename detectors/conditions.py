"""Field conditions of a rule's ``where:`` mapping, compiled into fast predicates.

``where`` maps an event field name to what it must hold:

* a scalar — equality (``event.outcome: failure``, ``http.response.status_code: 404``);
  numbers and their text compare equal (``404`` matches ``"404"``), ``null`` matches a
  missing field;
* a list — any of the values;
* a mapping of operators, all of which must hold: ``gt``, ``gte``, ``lt``, ``lte``
  (numbers; text that parses as a number counts), ``ne`` (a value or list: none of
  them; a missing field is "not equal"), ``in`` (a list: any of them), ``prefix`` (a
  text or list of texts; numbers are compared as text, so ``{prefix: "4"}`` is any
  4xx status), ``exists`` (true/false).

An event field holding a list matches when any element does.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from detectors.rulefile import Loc

MISSING: Any = object()
"""What a predicate receives for a field the event does not have."""

OPERATORS = ("gt", "gte", "lt", "lte", "ne", "in", "prefix", "exists")
_RANGE_OPS = ("gt", "gte", "lt", "lte")

Predicate = Callable[[Any], bool]
Condition = tuple[str, Predicate]
Problem = tuple[Loc, str]

_SCALARS = (str, int, float, bool, type(None))


def matches(conditions: tuple[Condition, ...], fields: Mapping[str, Any]) -> bool:
    """True when every condition holds for ``fields``."""
    for name, test in conditions:  # noqa: SIM110 - hot path: a loop beats all(genexpr)
        if not test(fields.get(name, MISSING)):
            return False
    return True


class ValueSet:
    """Equality against a set of scalars, tolerant of number/text differences."""

    __slots__ = ("bools", "null", "nums", "strs")

    def __init__(self, values: list[Any]) -> None:
        self.strs: set[str] = set()
        self.nums: set[float] = set()
        self.bools: set[bool] = set()
        self.null = False
        for value in values:
            if value is None:
                self.null = True
            elif isinstance(value, bool):
                self.bools.add(value)
                self.strs.add("true" if value else "false")
            elif isinstance(value, int | float):
                self.nums.add(float(value))
                self.strs.add(str(value))
            else:
                text = str(value)
                self.strs.add(text)
                number = as_number(text)
                if number is not None:
                    self.nums.add(number)

    def __call__(self, value: Any) -> bool:
        kind = type(value)
        if kind is str:
            return value in self.strs
        if value is MISSING or value is None:
            return self.null
        if kind is bool:
            return value in self.bools
        if kind is int or kind is float:
            return value in self.nums
        if isinstance(value, list | tuple | set | frozenset):
            return any(self(v) for v in value)
        return str(value) in self.strs


def as_number(value: Any) -> float | None:
    """A float from an int, float or numeric text; None otherwise (bools are not numbers)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def compile_where(where: Any) -> tuple[tuple[Condition, ...], list[Problem]]:
    """Compile a ``where`` mapping. Problems carry their key path inside the rule."""
    if where is None:
        return (), []
    if not isinstance(where, dict):
        return (), [(("where",), "expected a mapping of field: value")]
    conditions: list[Condition] = []
    problems: list[Problem] = []
    for key, spec in where.items():
        name = str(key)
        loc: Loc = ("where", name)
        if not name.strip():
            problems.append((loc, "empty field name"))
            continue
        if isinstance(spec, dict):
            if not spec:
                problems.append((loc, "empty operator mapping"))
            bounds: dict[str, float] = {}
            for op, operand in spec.items():
                test, problem = _compile_op(str(op), operand)
                if problem is not None:
                    problems.append(((*loc, str(op)), problem))
                elif str(op) in _RANGE_OPS:
                    bounds[str(op)] = float(operand)
                elif test is not None:
                    conditions.append((name, test))
            if bounds:
                conditions.append((name, _range(bounds)))
            continue
        values, problem = _scalar_list(spec)
        if problem is not None:
            problems.append((loc, problem))
        else:
            conditions.append((name, ValueSet(values)))
    return tuple(conditions), problems


def _scalar_list(spec: Any) -> tuple[list[Any], str | None]:
    values = spec if isinstance(spec, list) else [spec]
    if not values:
        return [], "an empty list matches nothing"
    for value in values:
        if not isinstance(value, _SCALARS):
            return [], f"expected a value or a list of values, got {type(value).__name__}"
    return values, None


def _compile_op(op: str, operand: Any) -> tuple[Predicate | None, str | None]:
    if op in _RANGE_OPS:
        if isinstance(operand, bool) or not isinstance(operand, int | float):
            return None, f"expected a number, got {operand!r}"
        return None, None
    if op in ("ne", "in"):
        values, problem = _scalar_list(operand)
        if problem is not None:
            return None, problem
        vs = ValueSet(values)
        return (vs if op == "in" else _negate(vs)), None
    if op == "prefix":
        texts = operand if isinstance(operand, list) else [operand]
        if not texts or not all(isinstance(t, str) and t for t in texts):
            return None, "expected a non-empty text or a list of texts"
        return _prefix(tuple(texts)), None
    if op == "exists":
        if not isinstance(operand, bool):
            return None, f"expected true or false, got {operand!r}"
        return _exists(operand), None
    return None, f"unknown operator {op!r} (expected one of {', '.join(OPERATORS)})"


def _range(bounds: dict[str, float]) -> Predicate:
    """One predicate for all of a field's gt/gte/lt/lte bounds."""
    lo = max((bounds[k] for k in ("gt", "gte") if k in bounds), default=-math.inf)
    lo_open = "gt" in bounds and bounds["gt"] >= bounds.get("gte", -math.inf)
    hi = min((bounds[k] for k in ("lt", "lte") if k in bounds), default=math.inf)
    hi_open = "lt" in bounds and bounds["lt"] <= bounds.get("lte", math.inf)

    def test(value: Any) -> bool:
        kind = type(value)
        number: float
        if kind is int or kind is float:
            number = value
        elif isinstance(value, list | tuple):
            return any(test(v) for v in value)
        else:
            got = as_number(value)
            if got is None:
                return False
            number = got
        if number < lo or (lo_open and number == lo):
            return False
        return not (number > hi or (hi_open and number == hi))

    return test


def _negate(vs: ValueSet) -> Predicate:
    return lambda value: not vs(value)


def _prefix(prefixes: tuple[str, ...]) -> Predicate:
    def test(value: Any) -> bool:
        if isinstance(value, str):
            return value.startswith(prefixes)
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value).startswith(prefixes)
        if isinstance(value, list | tuple):
            return any(test(v) for v in value)
        return False

    return test


def _exists(flag: bool) -> Predicate:
    return lambda value: (value is not MISSING and value is not None) is flag
