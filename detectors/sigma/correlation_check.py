"""Whether Ronda can run a Sigma correlation rule, and why not.

:func:`check_correlation` returns one line naming the problem (the caller adds the file
and rule), or None. The rule's references must already be resolved
(``SigmaCollection.resolve_rule_references()``).
"""

from __future__ import annotations

from uuid import UUID

from sigma.correlations import (
    CorrelationConditionItem,
    CorrelationConditionNOT,
    SigmaCorrelationCondition,
    SigmaCorrelationConditionOperator,
    SigmaCorrelationRule,
    SigmaCorrelationType,
    SigmaExtendedCorrelationCondition,
    SigmaRuleReference,
)
from sigma.rule import SigmaRule

MAX_THRESHOLD = 100_000
"""Largest count a count condition may ask for: a group keeps up to that many entries."""

Op = SigmaCorrelationConditionOperator
Kind = SigmaCorrelationType

SUPPORTED = (
    Kind.EVENT_COUNT,
    Kind.VALUE_COUNT,
    Kind.VALUE_SUM,
    Kind.VALUE_AVG,
    Kind.TEMPORAL,
    Kind.TEMPORAL_ORDERED,
)
COUNTING = (Kind.EVENT_COUNT, Kind.VALUE_COUNT)
TEMPORAL = (Kind.TEMPORAL, Kind.TEMPORAL_ORDERED)
VALUE = (Kind.VALUE_COUNT, Kind.VALUE_SUM, Kind.VALUE_AVG)
EAGER_OPS = (Op.GTE, Op.GT)

_NEVER = {Op.LT: 1, Op.LTE: 0, Op.EQ: 0}
"""For counts: the condition can never be met when its count is at most this (a window
holds at least one event, a value_count at least one value)."""


def check_correlation(rule: SigmaCorrelationRule) -> str | None:
    """The reason Ronda cannot run ``rule`` (one line), or None when it can."""
    return _check(rule, ())


def _check(rule: SigmaCorrelationRule, path: tuple[str, ...]) -> str | None:
    if rule.id is None:
        return "correlation rule has no id"
    if rule.type not in SUPPORTED:
        names = ", ".join(k.name.lower() for k in SUPPORTED)
        return (
            f"correlation type {rule.type.name.lower()!r} is not supported by Ronda "
            f"(supported: {names})"
        )
    refs = rule.referenced_rules
    if not refs:
        return "correlation rule references no rules (resolve the rule references first)"
    for ref in refs:
        problem = _check_reference(rule, ref, path)
        if problem is not None:
            return problem
    return _check_condition(rule) or _check_aliases(rule)


def _check_reference(
    rule: SigmaCorrelationRule, ref: SigmaRuleReference, path: tuple[str, ...]
) -> str | None:
    target = getattr(ref, "rule", None)
    if target is None:
        return f"rule reference {ref.reference!r} is not resolved"
    if target.id is None:
        return f"referenced rule {ref.reference!r} has no id"
    if isinstance(target, SigmaCorrelationRule):
        here = str(rule.id)
        if target is rule or str(target.id) in (*path, here):
            return f"correlation rules reference each other in a cycle ({ref.reference!r})"
        problem = _check(target, (*path, here))
        if problem is not None:
            return f"referenced correlation {ref.reference!r}: {problem}"
    elif not isinstance(target, SigmaRule):
        return f"referenced rule {ref.reference!r} is not a detection rule"
    return None


def _check_condition(rule: SigmaCorrelationRule) -> str | None:
    cond = rule.condition
    size = len(rule.referenced_rules)
    if isinstance(cond, SigmaExtendedCorrelationCondition):
        if rule.type is not Kind.TEMPORAL:
            return "an extended (and/or) condition is only supported for type temporal"
        if _has_not(cond.parsed):
            return (
                "'not' in a correlation condition is not supported "
                "(absence of a match cannot be decided on a sliding window)"
            )
        return None
    op, number = cond.op, cond.count
    if rule.type in TEMPORAL:
        if op not in EAGER_OPS:
            return f"condition {op.name.lower()!r} is not supported for {rule.type.name.lower()}"
        needed = number + 1 if op is Op.GT else number
        if needed > size:
            return f"condition can never be met: it needs {needed} of {size} referenced rules"
        if rule.type is Kind.TEMPORAL_ORDERED and needed < size:
            return (
                f"temporal_ordered supports only the default condition "
                f"(all {size} rules, in order)"
            )
        return None
    if rule.type in VALUE:
        fieldref = cond.fieldref
        if isinstance(fieldref, list) and len(fieldref) != 1:
            return "condition 'field' must name exactly one field"
    if rule.type in COUNTING:
        limit = _NEVER.get(op)
        if limit is not None and number <= limit:
            return (
                f"condition '{op.name.lower()}: {number}' can never be met "
                "(a window holds at least one event)"
            )
        if number > MAX_THRESHOLD and (op in EAGER_OPS or rule.type is Kind.VALUE_COUNT):
            return (
                f"condition count {number} is above Ronda's limit of {MAX_THRESHOLD} "
                "(memory per group grows with it)"
            )
    return None


def _check_aliases(rule: SigmaCorrelationRule) -> str | None:
    used = set(rule.group_by or ())
    cond = rule.condition
    if isinstance(cond, SigmaCorrelationCondition) and isinstance(cond.fieldref, str):
        used.add(cond.fieldref)
    for alias in rule.aliases:
        if alias.alias not in used:
            continue
        for mref in alias.mapping:
            if not any(same_rule(mref.reference, ref) for ref in rule.referenced_rules):
                return (
                    f"alias {alias.alias!r} maps rule {mref.reference!r}, "
                    "which the correlation does not reference"
                )
        for ref in rule.referenced_rules:
            if not any(same_rule(mref.reference, ref) for mref in alias.mapping):
                return f"alias {alias.alias!r} has no field for rule {ref.reference!r}"
    return None


def same_rule(text: str, ref: SigmaRuleReference) -> bool:
    """Whether ``text`` (a reference as written: id or name) designates ``ref``'s rule."""
    if text == ref.reference:
        return True
    target = getattr(ref, "rule", None)
    if target is None:
        return False
    if target.name is not None and text == target.name:
        return True
    if isinstance(target.id, UUID):
        try:
            return UUID(text) == target.id
        except ValueError:
            return False
    return target.id is not None and text == str(target.id)


def _has_not(node: object) -> bool:
    if isinstance(node, CorrelationConditionNOT):
        return True
    if isinstance(node, CorrelationConditionItem):
        return any(_has_not(arg) for arg in node.args)
    return False
