"""A compiled rule set at work: base rules, correlations fed by them, alerts.

For every event the candidate base rules are evaluated (:class:`.ruleset.Ruleset`); each
match is fed to the correlation rules that need that base rule, and raises the base rule's
own alert unless a correlation with ``generate: false`` suppresses it. At the end of a
batch the correlations are told the newest event time, so windows that wait for their end
(``lt``, ``eq``, ``value_avg`` ...) close without a further match.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from detectors.sigma.alerts import alert_like, base_alert
from detectors.sigma.compile import Compiled, CompiledCorrelation
from detectors.sigma.correlation import CorrelationSet
from detectors.sigma.loader import Problem, reason_of
from detectors.sigma.ruleset import Ruleset
from ronda.component import Context
from ronda.metrics import Metrics
from ronda.schema import Alert, Event, RuleRef, Severity


class Engine:
    def __init__(self, compiled: Compiled, ctx: Context, detector: str, max_groups: int) -> None:
        self.compiled = compiled
        self.detector = detector
        self._sensor = ctx.sensor
        self.ruleset = Ruleset(compiled.rules)
        self.problems: list[Problem] = []
        self.correlations = self._correlation_set(compiled.correlations, ctx, max_groups)
        self._feeds = self.correlations.base_ids() if self.correlations else frozenset()
        self._suppressed = (
            self.correlations.suppressed_ids() if self.correlations else frozenset()
        )

    def _correlation_set(
        self, items: list[CompiledCorrelation], ctx: Context, max_groups: int
    ) -> CorrelationSet | None:
        """All correlations in one set; one that the engine refuses is left out and reported."""
        if not items:
            return None
        try:
            return CorrelationSet([c.rule for c in items], ctx, self.detector, max_groups)
        except Exception:  # find the culprits one by one
            pass
        good: list[CompiledCorrelation] = []
        for item in items:
            try:
                CorrelationSet([item.rule], _quiet(ctx), self.detector, max_groups)
            except Exception as exc:
                self.problems.append(Problem("skip", item.file, item.line, item.id,
                                             str(item.rule.title or ""), reason_of(exc)))
            else:
                good.append(item)
        if not good:
            return None
        try:
            return CorrelationSet([c.rule for c in good], ctx, self.detector, max_groups)
        except Exception as exc:
            for item in good:
                self.problems.append(Problem("skip", item.file, item.line, item.id,
                                             str(item.rule.title or ""), reason_of(exc)))
            return None

    def rule_count(self) -> int:
        skipped = {p.rule_id for p in self.problems}
        return len(self.compiled.rules) + sum(
            1 for c in self.compiled.correlations if c.id not in skipped
        )

    def rule_info(self) -> list[tuple[RuleRef, Severity]]:
        out = [(rule.ref, rule.severity) for rule in self.compiled.rules]
        if self.correlations is not None:
            out.extend(self.correlations.rule_info())
        return out

    def adopt_state(self, old: Engine | None) -> None:
        """Keep the windows of unchanged correlation rules across a reload."""
        if old is not None and old.correlations is not None and self.correlations is not None:
            self.correlations.adopt_state(old.correlations)

    def reset(self) -> None:
        """Forget all correlation state (the sample runner starts each scenario afresh)."""
        if self.correlations is not None:
            self.correlations.reset()

    def process(self, events: Sequence[Event]) -> list[Alert]:
        alerts: list[Alert] = []
        match = self.ruleset.match
        corr = self.correlations
        feeds, suppressed = self._feeds, self._suppressed
        newest = float("-inf")
        for event in events:
            if event.timestamp > newest:
                newest = event.timestamp
            first: Alert | None = None
            for rule in match(event):
                if corr is not None and rule.id in feeds:
                    alerts.extend(corr.feed(rule.id, event))
                if rule.id not in suppressed:
                    if first is None:
                        first = base_alert(rule, event, self._sensor, self.detector)
                        alerts.append(first)
                    else:
                        alerts.append(alert_like(first, rule, event))
        if corr is not None and events:
            alerts.extend(corr.advance(newest))
        return alerts

    def advance(self, ts: float) -> list[Alert]:
        """Event time moved to ``ts``: alerts of correlation windows that closed."""
        return self.correlations.advance(ts) if self.correlations is not None else []


def _quiet(ctx: Context) -> Context:
    """The context for trial constructions (their metrics and logs are thrown away)."""
    return Context(ctx.sensor, ctx.clock, Metrics(), ctx.state_dir,
                   logging.getLogger("ronda.sigma.trial"), ctx.base_dir)
