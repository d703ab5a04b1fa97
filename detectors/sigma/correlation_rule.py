"""A Sigma correlation rule in the form Ronda runs: references, fields, condition, table.

Metadata mapping (the same for every correlation type):

* ``rule.id`` = ``str(id)``, ``rule.name`` = the title, ``rule.ruleset`` = ``sigma``;
* ``rule.category`` from a tag ``ronda.category.<category>`` (one of the fixed
  vocabulary), else ``policy``;
* techniques from ``attack.tNNNN[.NNN]`` tags, upper-cased;
* severity from ``level``: informational and low -> low, medium, high, critical;
  no level -> medium.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any

from sigma.correlations import (
    CorrelationConditionAND,
    CorrelationConditionItem,
    CorrelationConditionOR,
    SigmaCorrelationCondition,
    SigmaCorrelationRule,
    SigmaCorrelationType,
    SigmaExtendedCorrelationCondition,
    SigmaRuleReference,
)
from sigma.rule import SigmaRule

from detectors.sigma.correlation_check import (
    COUNTING,
    EAGER_OPS,
    TEMPORAL,
    Kind,
    Op,
    check_correlation,
    same_rule,
)
from detectors.sigma.correlation_closing import ClosingWindow, Measure
from detectors.sigma.correlation_groups import EvictionSink, GroupTable
from detectors.sigma.correlation_sliding import CountWindow, DistinctWindow, SumWindow
from detectors.sigma.correlation_temporal import OrderedWindow, Satisfied, TemporalWindow
from ronda.schema import CATEGORIES, Event, RuleRef, Severity

RULESET = "sigma"
DEFAULT_CATEGORY = "policy"
DEFAULT_SEVERITY = Severity.MEDIUM

_LEVELS = {
    "informational": Severity.LOW,
    "low": Severity.LOW,
    "medium": Severity.MEDIUM,
    "high": Severity.HIGH,
    "critical": Severity.CRITICAL,
}
_TECHNIQUE = re.compile(r"t\d{4}(?:\.\d{3})?", re.IGNORECASE)
_CATEGORY_PREFIX = "category."

_TESTS: dict[Op, Callable[[float, float], bool]] = {
    Op.GTE: lambda v, c: v >= c,
    Op.GT: lambda v, c: v > c,
    Op.LTE: lambda v, c: v <= c,
    Op.LT: lambda v, c: v < c,
    Op.EQ: lambda v, c: v == c,
    Op.NEQ: lambda v, c: v != c,
}

ContextFn = Callable[[Hashable, Event, Sequence[int]], dict[str, Any]]
"""Alert fields of an event for a group key (used by windows evaluated after the fact)."""


@dataclass(frozen=True, eq=False)
class Reference:
    """One entry of a correlation's ``rules`` list, with its fields resolved."""

    rule_id: str
    title: str
    correlation: bool
    group_fields: tuple[str, ...]
    """The event field behind each group-by name (aliases resolved for this rule)."""
    value_field: str | None


@dataclass(frozen=True, eq=False)
class CompiledCorrelation:
    id: str
    ref: RuleRef
    severity: Severity
    techniques: tuple[str, ...]
    kind: SigmaCorrelationType
    span: float
    span_text: str
    group_by: tuple[str, ...]
    references: tuple[Reference, ...]
    value_field: str | None
    generate: bool
    condition: SigmaCorrelationCondition | SigmaExtendedCorrelationCondition
    satisfied: Satisfied | None
    """temporal: whether the positions that matched within the window meet the condition."""
    fingerprint: str
    shape: str = ""
    """The fingerprint without the referenced rules' ids: equal for copies of a
    correlation (and its base rules) under other ids, which can share one window."""

    def make_table(
        self, max_groups: int, sink: EvictionSink, context: ContextFn
    ) -> GroupTable[Any]:
        """Fresh, empty window state for this rule."""
        cond = self.condition
        span = self.span
        size = len(self.references)
        if self.kind is Kind.TEMPORAL and self.satisfied is not None:
            return TemporalWindow(span, max_groups, sink, size, self.satisfied)
        if self.kind is Kind.TEMPORAL_ORDERED:
            return OrderedWindow(span, max_groups, sink, size)
        if not isinstance(cond, SigmaCorrelationCondition):
            raise ValueError(f"correlation rule {self.ref.name!r}: unsupported condition")
        op, number = cond.op, cond.count
        test = _TESTS[op]

        def passes(value: float) -> bool:
            return test(value, number)

        if op in EAGER_OPS and self.kind is not Kind.VALUE_AVG:
            needed = number + 1 if op is Op.GT else number
            if self.kind is Kind.EVENT_COUNT:
                return CountWindow(span, max_groups, sink, needed)
            if self.kind is Kind.VALUE_COUNT:
                return DistinctWindow(span, max_groups, sink, needed)
            return SumWindow(span, max_groups, sink, passes)
        measure: Measure = "avg"
        if self.kind is Kind.EVENT_COUNT:
            measure = "count"
        elif self.kind is Kind.VALUE_COUNT:
            measure = "distinct"
        elif self.kind is Kind.VALUE_SUM:
            measure = "sum"
        cap = number + 1 if self.kind in COUNTING else 0
        return ClosingWindow(span, max_groups, sink, measure, passes, context, cap)

    @property
    def evaluated_at_close(self) -> bool:
        """Whether groups are tested when their window closes (else at every event)."""
        cond = self.condition
        if self.kind in TEMPORAL or not isinstance(cond, SigmaCorrelationCondition):
            return False
        return self.kind is Kind.VALUE_AVG or cond.op not in EAGER_OPS


def compile_correlations(
    rules: Sequence[SigmaCorrelationRule],
) -> list[CompiledCorrelation]:
    """Compile ``rules`` and every correlation they reference (referenced ones first).

    Raise ValueError naming the rule when one of them fails :func:`check_correlation`.
    """
    done: dict[str, CompiledCorrelation] = {}
    for rule in rules:
        _compile(rule, done)
    return list(done.values())


def _compile(rule: SigmaCorrelationRule, done: dict[str, CompiledCorrelation]) -> str:
    rid = str(rule.id)
    if rid in done:
        return done[rid].fingerprint
    problem = check_correlation(rule)
    if problem is not None:
        raise ValueError(f"correlation rule {rule.title or rid!r}: {problem}")
    cond = rule.condition
    fieldref = cond.fieldref if isinstance(cond, SigmaCorrelationCondition) else None
    value_field = fieldref[0] if isinstance(fieldref, list) else fieldref
    group_by = tuple(rule.group_by or ())
    refs: list[Reference] = []
    parts: list[Any] = []
    for ref in rule.referenced_rules:
        target = ref.rule
        if isinstance(target, SigmaCorrelationRule):
            inner = _compile(target, done)
        else:
            inner = _base_fingerprint(target)
        fields = tuple(_field_for(rule, name, ref) for name in group_by)
        value = _field_for(rule, value_field, ref) if value_field is not None else None
        refs.append(
            Reference(
                rule_id=str(target.id),
                title=target.title or target.name or str(target.id),
                correlation=isinstance(target, SigmaCorrelationRule),
                group_fields=fields,
                value_field=value,
            )
        )
        parts.append((str(target.id), fields, value, inner))
    condition_text = json.dumps(cond.to_dict(), sort_keys=True, default=str)
    fingerprint = repr(
        (rule.type.name, rule.timespan.seconds, group_by, condition_text, parts)
    )
    shape = repr(
        (rule.type.name, rule.timespan.seconds, group_by, condition_text,
         [part[1:] for part in parts])
    )
    done[rid] = CompiledCorrelation(
        id=rid,
        ref=RuleRef(
            id=rid,
            name=rule.title or rule.name or rid,
            ruleset=RULESET,
            category=category_of(rule),  # type: ignore[arg-type]
            description=(rule.description or "").strip(),
            references=tuple(rule.references),
        ),
        severity=severity_of(rule),
        techniques=techniques_of(rule),
        kind=rule.type,
        span=float(rule.timespan.seconds),
        span_text=rule.timespan.spec,
        group_by=group_by,
        references=tuple(refs),
        value_field=value_field,
        generate=rule.generate,
        condition=cond,
        satisfied=_temporal_test(rule),
        fingerprint=fingerprint,
        shape=shape,
    )
    return fingerprint


def category_of(rule: SigmaCorrelationRule) -> str:
    for tag in rule.tags:
        if tag.namespace == "ronda" and tag.name.startswith(_CATEGORY_PREFIX):
            category = tag.name[len(_CATEGORY_PREFIX) :].lower()
            if category in CATEGORIES:
                return category
    return DEFAULT_CATEGORY


def techniques_of(rule: SigmaCorrelationRule) -> tuple[str, ...]:
    found: dict[str, None] = {}
    for tag in rule.tags:
        if tag.namespace == "attack" and _TECHNIQUE.fullmatch(tag.name):
            found[tag.name.upper()] = None
    return tuple(found)


def severity_of(rule: SigmaCorrelationRule) -> Severity:
    if rule.level is None:
        return DEFAULT_SEVERITY
    return _LEVELS.get(rule.level.name.lower(), DEFAULT_SEVERITY)


def _field_for(rule: SigmaCorrelationRule, name: str, ref: SigmaRuleReference) -> str:
    """The event field behind ``name`` for the referenced rule ``ref`` (aliases resolved)."""
    for alias in rule.aliases:
        if alias.alias == name:
            for mref, field_name in alias.mapping.items():
                if same_rule(mref.reference, ref):
                    return field_name
    return name


def _base_fingerprint(rule: SigmaRule) -> str:
    """What decides which events a base rule matches (its metadata does not count)."""
    logsource = rule.logsource.to_dict()
    logsource.pop("source", None)  # where the rule was read from (file:line) is no part of it
    parts = {"logsource": logsource, "detection": rule.detection.to_dict()}
    return json.dumps(parts, sort_keys=True, default=str)


def _temporal_test(rule: SigmaCorrelationRule) -> Satisfied | None:
    if rule.type is not Kind.TEMPORAL:
        return None
    cond = rule.condition
    if isinstance(cond, SigmaExtendedCorrelationCondition):
        index = {ref.reference: i for i, ref in enumerate(rule.referenced_rules)}
        return _satisfied(cond.parsed, index)
    needed = max(1, cond.count + 1 if cond.op is Op.GT else cond.count)
    return lambda active: len(active) >= needed


def _satisfied(node: object, index: dict[str, int]) -> Satisfied:
    """A test of an and/or condition tree over the positions that matched."""
    if isinstance(node, SigmaRuleReference):
        pos = index[node.reference]
        return lambda active: pos in active
    if isinstance(node, CorrelationConditionItem):
        tests = [_satisfied(arg, index) for arg in node.args]
        if isinstance(node, CorrelationConditionAND):
            return lambda active: all(t(active) for t in tests)
        if isinstance(node, CorrelationConditionOR):
            return lambda active: any(t(active) for t in tests)
    raise ValueError(f"unsupported correlation condition element {node!r}")
