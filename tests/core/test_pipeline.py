import logging
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ronda.clock import EventClock
from ronda.component import (
    Context,
    Detector,
    DetectorConfig,
    Emit,
    Responder,
    ResponderConfig,
    Source,
    SourceConfig,
)
from ronda.config import PipelineSettings
from ronda.errors import RuleError
from ronda.metrics import Metrics
from ronda.pipeline.checkpoint import CheckpointStore
from ronda.pipeline.runtime import Pipeline
from ronda.schema import Alert, Event, RuleRef, Severity


def _ctx(tmp_path: Path) -> Context:
    return Context(sensor="t", clock=EventClock(), metrics=Metrics(), state_dir=tmp_path,
                   log=logging.getLogger("test"))


class ListSource(Source):
    finite = True

    def __init__(self, ctx: Context, n: int, batch: int = 100) -> None:
        super().__init__("list", SourceConfig(type="list"), ctx)
        self.n, self.batch = n, batch

    def run(self, emit: Emit, stop: threading.Event) -> None:
        for start in range(0, self.n, self.batch):
            evs = [Event("test", float(i), {"seq": i, "source.ip": "192.0.2.9"})
                   for i in range(start, min(self.n, start + self.batch))]
            emit(evs, {"offset": min(self.n, start + self.batch)})


class EveryEvent(Detector):
    def __init__(self, ctx: Context, fail_reload: bool = False) -> None:
        super().__init__("every", DetectorConfig(type="every"), ctx)
        self.fail_reload = fail_reload
        self.generation = 0

    def reload(self) -> int:
        if self.fail_reload:
            raise RuleError("rules/x.yml:3 rule 'a' window: invalid duration 'abc'")
        self.generation += 1
        return 1

    def process(self, events: Sequence[Event]) -> list[Alert]:
        return [Alert(rule=RuleRef(id="every", name="e", ruleset="t", category="policy"),
                      severity=Severity.HIGH, message="m", first_seen=e.timestamp,
                      last_seen=e.timestamp, key=str(e.get("source.ip"))) for e in events]


class Recorder(Responder):
    def __init__(self, ctx: Context, name: str, gate: threading.Event | None = None,
                 queue_size: int = 10_000, wants_events: bool = False) -> None:
        super().__init__(name, ResponderConfig(type="rec", queue_size=queue_size), ctx)
        self.gate = gate
        self.alerts: dict[str, Alert] = {}
        self.events: list[Any] = []
        self.wants_events = wants_events

    def handle(self, alerts: Sequence[Alert]) -> None:
        if self.gate is not None:
            self.gate.wait()
        for a in alerts:
            self.alerts[a.id] = a

    def handle_events(self, events: Sequence[Event]) -> None:
        self.events.extend(e.get("seq") for e in events)


def _settings(**kw: Any) -> PipelineSettings:
    base: dict[str, Any] = {"aggregate_window": 60.0, "checkpoint_interval": 0.05,
                            "shutdown_timeout": 3.0}
    base.update(kw)
    return PipelineSettings(**base)


def test_events_flow_aggregate_and_checkpoint(tmp_path: Path) -> None:
    ctx = _ctx(tmp_path)
    store = CheckpointStore(tmp_path / "cp")
    rec = Recorder(ctx, "rec", wants_events=True)
    p = Pipeline(ctx, _settings(), [ListSource(ctx, 1000)], [EveryEvent(ctx)], [rec], store)
    p.start()
    assert p.wait() == 0
    assert rec.events == list(range(1000))
    counts = sorted(a.count for a in rec.alerts.values())
    assert sum(counts) == 1000 and len(counts) == 1000 // 61 + 1  # one alert per 60 s window
    assert store.load("list") == {"offset": 1000}
    assert ctx.metrics.value("ronda_alerts_total", category="policy", severity="high") == 17


def test_a_stuck_responder_does_not_stall_the_others(tmp_path: Path) -> None:
    ctx = _ctx(tmp_path)
    gate = threading.Event()
    stuck = Recorder(ctx, "stuck", gate=gate, queue_size=10)
    fast = Recorder(ctx, "fast")
    store = CheckpointStore(tmp_path / "cp")
    settings = _settings(aggregate_window=0.0, shutdown_timeout=1.0)
    p = Pipeline(ctx, settings, [ListSource(ctx, 5000)], [EveryEvent(ctx)], [stuck, fast], store)
    p.start()
    p.wait()
    assert len(fast.alerts) == 5000
    assert ctx.metrics.value("ronda_dropped_total", component="stuck", reason="queue_full") > 0
    # The stuck responder never flushed, so no position may be committed (nothing lost).
    assert store.load("list") is None
    gate.set()


def test_broken_rule_reload_keeps_running_rules(tmp_path: Path, caplog: Any) -> None:
    ctx = _ctx(tmp_path)
    det = EveryEvent(ctx)
    det.reload()
    p = Pipeline(ctx, _settings(), [], [det], [])
    det.fail_reload = True
    with caplog.at_level(logging.ERROR, logger="test"):
        assert p.reload_rules() is False
    assert det.generation == 1
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert errors == ["detector every: rule reload failed, the running rules stay: "
                      "rules/x.yml:3 rule 'a' window: invalid duration 'abc'"]
    assert ctx.metrics.value("ronda_rule_reloads_total", detector="every", result="failed") == 1


def test_lossless_mode_waits_for_a_slow_responder(tmp_path: Path) -> None:
    ctx = _ctx(tmp_path)
    gate = threading.Event()
    slow = Recorder(ctx, "slow", gate=gate, queue_size=10)
    p = Pipeline(ctx, _settings(aggregate_window=0.0), [ListSource(ctx, 3000)],
                 [EveryEvent(ctx)], [slow], lossless=True)
    p.start()
    threading.Timer(0.3, gate.set).start()
    assert p.wait() == 0
    assert len(slow.alerts) == 3000
    assert ctx.metrics.total("ronda_dropped_total") == 0
