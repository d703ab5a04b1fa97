"""The ``type: sigma`` detector: Sigma rules (and correlations) over every event.

Configured as::

    detectors:
      sigma:
        type: sigma
        rules: [../rules/sigma, /etc/ronda/sigma-local]   # files or folders
        max_groups: 100000           # groups kept per correlation rule
        placeholders:                # values of %name% in rules using |expand
          admin_paths: [/wp-admin/, /administrator/]

Reload semantics: every reload compiles all rule files into a new engine and swaps it in
at once. A rule that cannot run (invalid, unsupported construct, unknown placeholder) is
skipped and logged once at that reload (``ronda rules validate`` lists them); the others
run. The reload fails -- :class:`~ronda.errors.RuleError`, the running rules stay -- only
when a configured path does not exist, or when a configured path holds rule files of
which not a single rule could be loaded (a broken file or folder, not a bad rule).
Correlation windows of unchanged correlation rules survive a reload.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from pydantic import Field

from detectors.sigma.compile import Compiled, compile_rules
from detectors.sigma.correlation import CorrelationSet
from detectors.sigma.engine import Engine
from ronda.component import Context, Detector, DetectorConfig
from ronda.errors import RuleError
from ronda.schema import Alert, Event, RuleRef, Severity

MAX_LISTED_PROBLEMS = 20


class SigmaConfig(DetectorConfig):
    type: Literal["sigma"]
    rules: list[str]
    """Sigma rule files or folders (``*.yml``/``*.yaml``, recursively; relative to the
    config file). ``*.samples.yml`` files are samples, not rules."""
    max_groups: int = Field(default=100_000, ge=1)
    """Groups kept per correlation rule; beyond it the least recently seen is evicted."""
    placeholders: dict[str, list[str | int]] = Field(default_factory=dict)
    """Values of ``%name%`` placeholders in values with the ``expand`` modifier."""


class SigmaDetector(Detector):
    config_model = SigmaConfig
    config: SigmaConfig

    def __init__(self, name: str, config: SigmaConfig, ctx: Context) -> None:
        super().__init__(name, config, ctx)
        self._engine: Engine | None = None
        m = ctx.metrics
        self._received = m.received.labels(component=name)
        self._emitted = m.emitted.labels(component=name)
        self._rules_loaded = m.rules_loaded.labels(detector=name)

    def compile(self) -> Compiled:
        """Compile the configured rules (no state change); raise RuleError as reload does."""
        paths = [self.ctx.resolve(p) for p in self.config.rules]
        compiled = compile_rules(paths, self.config.placeholders, CorrelationSet.check)
        lines = [f"{self.name}: {m}" for m in compiled.missing]
        for path in compiled.barren:
            lines.append(f"{self.name}: {path}: not one rule could be loaded from it")
            lines.extend(
                p.text() for p in compiled.skipped[:MAX_LISTED_PROBLEMS]
                if p.file.startswith(path)
            )
        if lines:
            raise RuleError(*lines)
        return compiled

    def reload(self) -> int:
        compiled = self.compile()
        engine = Engine(compiled, self.ctx, self.name, self.config.max_groups)
        engine.adopt_state(self._engine)
        log = self.ctx.log
        for problem in [*compiled.skipped, *engine.problems]:
            log.warning("%s: %s", self.name, problem.text())
        inactive = len(compiled.inactive)
        if inactive:
            log.info("%s: %d rules inactive (no Ronda source produces their logsource; "
                     "'ronda rules validate' lists them)", self.name, inactive)
        self._engine = engine
        count = engine.rule_count()
        self._rules_loaded.set(count)
        log.debug("%s: %d sigma rules loaded", self.name, count)
        return count

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            raise RuntimeError("SigmaDetector.reload() was not called")
        return self._engine

    def rule_info(self) -> list[tuple[RuleRef, Severity]]:
        return self._engine.rule_info() if self._engine is not None else []

    def process(self, events: Sequence[Event]) -> list[Alert]:
        alerts = self.engine.process(events)
        self._received.inc(len(events))
        if alerts:
            self._emitted.inc(len(alerts))
        return alerts
