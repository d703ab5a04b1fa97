"""Sigma correlation rules: sliding windows over base-rule matches, per group-by key.

The sigma detector matches base rules itself and hands every match of a base rule that a
correlation needs to :meth:`CorrelationSet.feed`. Semantics (see the window modules):

* ``event_count``, ``value_count``, ``value_sum`` with ``gte``/``gt``: sliding window,
  tested at every event (:mod:`~detectors.sigma.correlation_sliding`);
* ``lt``/``lte``/``eq``/``neq``, and every ``value_avg``: tumbling window per group,
  tested when it closes (:mod:`~detectors.sigma.correlation_closing`);
* ``temporal``, ``temporal_ordered`` (:mod:`~detectors.sigma.correlation_temporal`).

A group that meets its condition gives an alert and is re-armed, so a sustained attack
gives periodic alerts which the pipeline's aggregator merges. Time is the events'
timestamps. Each rule keeps at most ``max_groups`` groups (least recently used evicted,
counted as ``ronda_dropped_total{reason="group_evicted"}``).

``generate`` follows Sigma: a rule referenced by a correlation whose ``generate`` is false
(the default) does not alert on its own. For base rules the detector asks
:meth:`~CorrelationSet.suppressed_ids`; a referenced correlation ("chaining", Sigma
correlation spec 2) still counts and feeds the correlations that reference it, its alert
is just not returned. A chained correlation's hit reaches the next one as an event at the
hit's last time, with the alert fields (group-by included) as its fields and the alert
message as its raw message.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from sigma.correlations import SigmaCorrelationRule

from detectors.sigma.correlation_alert import build_alert, context_fields
from detectors.sigma.correlation_check import VALUE, Kind, check_correlation
from detectors.sigma.correlation_groups import NEG_INF, EvictionSink, GroupTable, Hit
from detectors.sigma.correlation_rule import CompiledCorrelation, compile_correlations
from ronda.component import Context
from ronda.schema import Alert, Event, RuleRef, Severity

CHAINED_DATASET = "ronda.correlation"
"""Dataset of the events a correlation hit feeds into the correlations referencing it."""

_PLAIN = (str, int, float, bool)


@dataclass(eq=False)
class _Runtime:
    rule: CompiledCorrelation
    table: GroupTable[Any]
    outputs: bool
    dependents: list[_Route] = field(default_factory=list)


@dataclass(frozen=True, eq=False)
class _Route:
    """Matches of one referenced rule, for one correlation."""

    runtime: _Runtime
    positions: tuple[int, ...]
    group_fields: tuple[str, ...]
    value_field: str | None
    numeric: bool


class CorrelationSet:
    """The correlation rules of one sigma detector, with their window state.

    Not thread-safe: the detector thread owns it. ``rules`` must have their references
    resolved and pass :meth:`check` (ValueError otherwise); correlations they reference
    are included even when not listed.
    """

    def __init__(
        self,
        rules: Sequence[SigmaCorrelationRule],
        ctx: Context,
        detector: str,
        max_groups: int,
    ) -> None:
        self._sensor = ctx.sensor
        self._detector = detector
        self._max_groups = max(1, max_groups)
        self._sink = EvictionSink()
        self._evicted = ctx.metrics.dropped.labels(component=detector, reason="group_evicted")
        self._watermark = NEG_INF
        compiled = compile_correlations(rules)
        suppressed = {
            ref.rule_id for rule in compiled if not rule.generate for ref in rule.references
        }
        self._runtimes: dict[str, _Runtime] = {}
        for rule in compiled:
            outputs = rule.id not in suppressed
            self._runtimes[rule.id] = _Runtime(rule, self._new_table(rule), outputs)
        self._routes: dict[str, list[_Route]] = {}
        for runtime in self._runtimes.values():
            for rule_id, route in _routes_of(runtime):
                target = self._runtimes.get(rule_id)
                if target is not None:  # a chained correlation
                    target.dependents.append(route)
                else:
                    self._routes.setdefault(rule_id, []).append(route)
        self._suppressed = frozenset(suppressed & set(self._routes))
        self._twins = self._share_twins()
        self._base_ids = frozenset(self._routes)
        self._closing = [rt for rt in self._runtimes.values()
                         if rt.rule.evaluated_at_close and rt.rule.id not in self._followers]

    def _share_twins(self) -> dict[str, list[_Runtime]]:
        """Correlations with the same definition (type, referenced rules' logsource and
        detection, group-by, aliases, timespan, condition) but other ids, such as a pack
        loaded twice under new ids (base rules included), count in one window: only the
        first is fed, and when it fires every twin gets its own alert. Rules that chain
        (feed or are fed by another correlation) are left alone. A Sigma filter that
        names only some of the copies' base rules would make them differ; filters are
        not part of the comparison."""
        leaders: dict[str, _Runtime] = {}
        twins: dict[str, list[_Runtime]] = {}
        chained = {route.runtime.rule.id for rt in self._runtimes.values()
                   for route in rt.dependents}
        for runtime in self._runtimes.values():
            rule = runtime.rule
            if runtime.dependents or rule.id in chained:
                continue
            leader = leaders.setdefault(rule.shape, runtime)
            if leader is not runtime:
                twins.setdefault(leader.rule.id, []).append(runtime)
        self._followers = {rt.rule.id for group in twins.values() for rt in group}
        if self._followers:
            for base_id in list(self._routes):
                kept = [r for r in self._routes[base_id]
                        if r.runtime.rule.id not in self._followers]
                if kept:
                    self._routes[base_id] = kept
                else:
                    del self._routes[base_id]
        return twins

    @staticmethod
    def check(rule: SigmaCorrelationRule) -> str | None:
        """The reason Ronda cannot run ``rule`` (one line), or None."""
        return check_correlation(rule)

    def base_ids(self) -> frozenset[str]:
        """Ids of the base rules whose matches the correlations need."""
        return self._base_ids

    def suppressed_ids(self) -> frozenset[str]:
        """Base rules that must not alert on their own (referenced with generate: false)."""
        return self._suppressed

    def rule_info(self) -> list[tuple[RuleRef, Severity]]:
        return [(rt.rule.ref, rt.rule.severity) for rt in self._runtimes.values()]

    def group_counts(self) -> dict[str, int]:
        """Groups held per correlation rule id (tests, diagnostics)."""
        return {rid: len(rt.table) for rid, rt in self._runtimes.items()}

    def feed(self, base_id: str, event: Event) -> list[Alert]:
        """The base rule ``base_id`` matched ``event``; return the alerts this raises."""
        alerts: list[Alert] = []
        if event.timestamp > self._watermark:
            self._watermark = event.timestamp
            if self._closing:
                self._close(alerts)
        routes = self._routes.get(base_id)
        if routes is not None:
            for route in routes:
                self._observe(route, event, alerts)
        if self._sink.evicted:
            self._evicted.inc(self._sink.take())
        return alerts

    def advance(self, ts: float) -> list[Alert]:
        """Event time reached ``ts`` (for example the newest event of a batch, matched or
        not): close the windows that ended before it and return their alerts. Optional:
        :meth:`feed` does the same with each event's time."""
        alerts: list[Alert] = []
        if ts > self._watermark:
            self._watermark = ts
            if self._closing:
                self._close(alerts)
        return alerts

    def adopt_state(self, old: CorrelationSet) -> None:
        """Take over the windows of ``old`` (the set this one replaces on reload) for every
        rule whose definition (type, referenced rules and their detection, group-by,
        aliases, timespan, condition) did not change. ``old`` must not be used afterwards.
        """
        if old is self:
            return
        for rid, runtime in self._runtimes.items():
            prev = old._runtimes.get(rid)
            if prev is None or prev.rule.fingerprint != runtime.rule.fingerprint:
                continue
            table = prev.table
            table.sink = self._sink
            table.resize(self._max_groups)
            runtime.table = table
        self._watermark = max(self._watermark, old._watermark)
        if self._sink.evicted:
            self._evicted.inc(self._sink.take())

    def reset(self) -> None:
        """Drop all window state."""
        for runtime in self._runtimes.values():
            runtime.table.clear()
        self._watermark = NEG_INF
        self._sink.take()

    def _new_table(self, rule: CompiledCorrelation) -> GroupTable[Any]:
        return rule.make_table(self._max_groups, self._sink, partial(_closing_context, rule))

    def _observe(self, route: _Route, event: Event, alerts: list[Alert]) -> None:
        fields = event.fields
        key = _group_key(route.group_fields, fields)
        if key is None:
            return
        value: Any = None
        if route.value_field is not None:
            value = fields.get(route.value_field)
            if value is None:
                return
            value = _number(value) if route.numeric else _plain(value)
            if value is None:
                return
        runtime = route.runtime
        hit = runtime.table.observe(key, event, route.positions, value)
        if hit is not None:
            alert_fields = context_fields(event, route.group_fields, key)
            self._fire(runtime, key, hit, alert_fields, route.value_field, event.source, alerts)

    def _close(self, alerts: list[Alert]) -> None:
        for runtime in self._closing:
            for key, hit in runtime.table.close(self._watermark):
                fields = dict(hit.context or {})
                value_field = runtime.rule.references[0].value_field
                self._fire(runtime, key, hit, fields, value_field, hit.source, alerts)

    def _fire(
        self,
        runtime: _Runtime,
        key: Hashable,
        hit: Hit,
        fields: dict[str, Any],
        value_field: str | None,
        source: str,
        alerts: list[Alert],
    ) -> None:
        values = key if isinstance(key, tuple) else (key,)
        rule = runtime.rule
        alert = build_alert(
            rule, hit, values, fields, value_field, source, self._sensor, self._detector
        )
        if runtime.outputs:
            alerts.append(alert)
        for twin in self._twins.get(rule.id, ()):
            if twin.outputs:
                alerts.append(build_alert(twin.rule, hit, values, fields, value_field, source,
                                          self._sensor, self._detector))
        if runtime.dependents:
            derived = dict(alert.fields)
            derived.update(zip(rule.group_by, values, strict=True))
            chained = Event(
                dataset=CHAINED_DATASET,
                timestamp=hit.last_seen,
                fields=derived,
                message=alert.message,
                source=source,
            )
            for route in runtime.dependents:
                self._observe(route, chained, alerts)


def _routes_of(runtime: _Runtime) -> list[tuple[str, _Route]]:
    rule = runtime.rule
    positions: dict[str, list[int]] = {}
    for i, ref in enumerate(rule.references):
        positions.setdefault(ref.rule_id, []).append(i)
    out: list[tuple[str, _Route]] = []
    for rule_id, where in positions.items():
        ref = rule.references[where[0]]
        route = _Route(
            runtime=runtime,
            positions=tuple(where),
            group_fields=ref.group_fields,
            value_field=ref.value_field if rule.kind in VALUE else None,
            numeric=rule.kind in (Kind.VALUE_SUM, Kind.VALUE_AVG),
        )
        out.append((rule_id, route))
    return out


def _closing_context(
    rule: CompiledCorrelation, key: Hashable, event: Event, positions: Sequence[int]
) -> dict[str, Any]:
    ref = rule.references[positions[0]] if positions else rule.references[0]
    values = key if isinstance(key, tuple) else (key,)
    return context_fields(event, ref.group_fields, values)


def _group_key(group_by: tuple[str, ...], fields: dict[str, Any]) -> tuple[Any, ...] | None:
    """The group's values, or None when the event lacks one of the fields."""
    if len(group_by) == 1:
        value = fields.get(group_by[0])
        if value is None:
            return None
        return (value if type(value) is str else _plain(value),)
    parts = []
    for name in group_by:
        value = fields.get(name)
        if value is None:
            return None
        parts.append(value if type(value) is str else _plain(value))
    return tuple(parts)


def _plain(value: Any) -> Any:
    """A hashable stand-in for a field value (lists and mappings become text)."""
    return value if isinstance(value, _PLAIN) else str(value)


def _number(value: Any) -> float | None:
    """A field value as a finite number, or None (booleans and other text are not)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    return number if number - number == 0 else None  # not inf or nan
