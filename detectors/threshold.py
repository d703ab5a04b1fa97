"""Generic sliding-window thresholds: N matching events (or N distinct values) per group.

Configured as::

    detectors:
      thresholds: {type: threshold, rules: [rules/thresholds], max_groups: 100000}

The rule format is described in :mod:`detectors.threshold_rules`, the counting in
:mod:`detectors.threshold_state`. Time comes from the events' timestamps (replays of old
logs work); the injected clock is not used.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any, Literal

from pydantic import Field

from detectors.conditions import matches
from detectors.threshold_rules import CompiledRule, load_rules
from detectors.threshold_state import Hit, RuleWindow
from ronda.component import Context, Detector, DetectorConfig
from ronda.schema import Alert, Event, RuleRef, Severity

CONTEXT_FIELDS = (
    "source.ip",
    "source.domain",
    "user.name",
    "url.domain",
    "host.hostname",
    "host.name",
)
"""ECS fields copied from the triggering event into the alert when present."""

CONTEXT_PREFIXES = ("destination.",)

MAX_EVIDENCE_CHARS = 1024

_PLAIN = (str, int, float, bool)


class ThresholdConfig(DetectorConfig):
    type: Literal["threshold"]
    rules: list[str]
    """Rule files or folders of ``*.yml``/``*.yaml`` (relative to the config file)."""
    max_groups: int = Field(default=100_000, ge=1)
    """Groups kept per rule; beyond it the least recently seen group is evicted."""


class _Ruleset:
    """Compiled rules with their window state, indexed by dataset."""

    def __init__(self, entries: list[tuple[CompiledRule, RuleWindow]]) -> None:
        self.entries = entries
        self.by_id = {rule.id: (rule, window) for rule, window in entries}
        self._cache: dict[str, tuple[tuple[CompiledRule, RuleWindow], ...]] = {}

    def for_dataset(self, dataset: str) -> tuple[tuple[CompiledRule, RuleWindow], ...]:
        got = self._cache.get(dataset)
        if got is None:
            got = tuple(
                e for e in self.entries if e[0].datasets is None or dataset in e[0].datasets
            )
            if len(self._cache) < 1024:
                self._cache[dataset] = got
        return got


class ThresholdDetector(Detector):
    """Counts matching events per group in a sliding window and alerts at the threshold.

    Call :meth:`reload` before :meth:`process` (the daemon does, at start and on SIGHUP).
    On reload, a rule whose counting definition (dataset, where, group_by, window,
    threshold, distinct) did not change keeps its window state; a changed or new rule
    starts empty; a removed rule's state is dropped. Changes to name, severity, message
    and the like take effect at once without resetting the state.
    """

    config_model = ThresholdConfig
    config: ThresholdConfig

    def __init__(self, name: str, config: ThresholdConfig, ctx: Context) -> None:
        super().__init__(name, config, ctx)
        self._ruleset = _Ruleset([])
        m = ctx.metrics
        self._received = m.received.labels(component=name)
        self._emitted = m.emitted.labels(component=name)
        self._evicted = m.dropped.labels(component=name, reason="group_evicted")
        self._rules_loaded = m.rules_loaded.labels(detector=name)

    def reload(self) -> int:
        """Load all rule files into a new ruleset and swap it in only if all of it loaded."""
        rules = load_rules([self.ctx.resolve(p) for p in self.config.rules])
        old = self._ruleset.by_id
        entries: list[tuple[CompiledRule, RuleWindow]] = []
        for rule in rules:
            prev = old.get(rule.id)
            if prev is not None and prev[0].fingerprint == rule.fingerprint:
                window = prev[1]
            else:
                window = RuleWindow(
                    rule.window, rule.threshold, rule.distinct is not None, self.config.max_groups
                )
            entries.append((rule, window))
        self._ruleset = _Ruleset(entries)
        self._rules_loaded.set(len(entries))
        self.ctx.log.debug("%s: %d threshold rules loaded", self.name, len(entries))
        return len(entries)

    def rules(self) -> list[CompiledRule]:
        """The rules running now."""
        return [rule for rule, _ in self._ruleset.entries]

    def rule_info(self) -> list[tuple[RuleRef, Severity]]:
        return [(rule.ref, rule.severity) for rule in self.rules()]

    def group_counts(self) -> dict[str, int]:
        """Groups held per rule id (for tests and diagnostics)."""
        return {rule.id: len(window) for rule, window in self._ruleset.entries}

    def process(self, events: Sequence[Event]) -> list[Alert]:
        ruleset = self._ruleset
        alerts: list[Alert] = []
        for event in events:
            entries = ruleset.for_dataset(event.dataset)
            if not entries:
                continue
            fields = event.fields
            for rule, window in entries:
                if rule.conditions and not matches(rule.conditions, fields):
                    continue
                key = _group_key(rule.group_by, fields)
                if key is None:
                    continue
                value: Hashable = None
                if rule.distinct is not None:
                    value = fields.get(rule.distinct)
                    if value is None:
                        continue
                    if type(value) is not str:
                        value = _plain(value)
                message = event.message
                if len(message) > MAX_EVIDENCE_CHARS:
                    message = message[:MAX_EVIDENCE_CHARS]
                hit = window.observe(key, event.timestamp, message, value)
                if hit is not None:
                    alerts.append(self._alert(rule, hit, key, event))
        evicted = sum(window.take_evicted() for _, window in ruleset.entries)
        if evicted:
            self._evicted.inc(evicted)
        self._received.inc(len(events))
        if alerts:
            self._emitted.inc(len(alerts))
        return alerts

    def _alert(self, rule: CompiledRule, hit: Hit, key: tuple[Any, ...], event: Event) -> Alert:
        src = event.fields
        fields: dict[str, Any] = {name: src[name] for name in CONTEXT_FIELDS if name in src}
        for name, value in src.items():
            if name.startswith(CONTEXT_PREFIXES):
                fields[name] = value
        fields.update(zip(rule.group_by, key, strict=True))
        if rule.distinct is not None:
            fields[rule.distinct] = list(hit.values)
        key_text = "|".join(str(v) for v in key)
        values = {
            **fields,
            "count": hit.count,
            "window": rule.window_text,
            "threshold": rule.threshold,
            "key": key_text,
            "name": rule.ref.name,
            "id": rule.id,
            "distinct": rule.distinct,
        }
        return Alert(
            rule=rule.ref,
            severity=rule.severity,
            message=rule.render(values, src),
            first_seen=hit.first_seen,
            last_seen=hit.last_seen,
            key=key_text,
            techniques=rule.techniques,
            fields=fields,
            evidence=hit.evidence,
            sensor=self.ctx.sensor,
            detector=self.name,
            source=event.source,
        )


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
