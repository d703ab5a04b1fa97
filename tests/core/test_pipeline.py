import logging
import threading
import time
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


class Flaky(Recorder):
    """Fails its first ``failures`` calls to handle, then works."""

    def __init__(self, ctx: Context, failures: int) -> None:
        super().__init__(ctx, "flaky")
        self.failures = failures

    def handle(self, alerts: Sequence[Alert]) -> None:
        if self.failures > 0:
            self.failures -= 1
            raise OSError("disk full")
        super().handle(alerts)


def test_a_failing_responder_is_retried_and_loses_nothing(tmp_path: Path) -> None:
    ctx = _ctx(tmp_path)
    flaky = Flaky(ctx, failures=2)
    store = CheckpointStore(tmp_path / "cp")
    p = Pipeline(ctx, _settings(aggregate_window=0.0), [ListSource(ctx, 300)],
                 [EveryEvent(ctx)], [flaky], store)
    p.start()
    assert p.wait() == 0
    assert len(flaky.alerts) == 300
    assert ctx.metrics.value("ronda_errors_total", component="flaky") == 2
    assert store.load("list") == {"offset": 300}


def test_replay_gives_up_on_a_dead_responder_and_exits_1(tmp_path: Path) -> None:
    ctx = _ctx(tmp_path)
    dead = Flaky(ctx, failures=10**9)
    p = Pipeline(ctx, _settings(aggregate_window=0.0), [ListSource(ctx, 10, batch=10)],
                 [EveryEvent(ctx)], [dead], lossless=True)
    p.start()
    assert p.wait() == 1
    assert ctx.metrics.value("ronda_dropped_total", component="flaky",
                             reason="responder_failed") == 10


class Crashing(EveryEvent):
    def reload(self) -> int:
        if self.generation:
            raise RecursionError("maximum recursion depth exceeded")
        return super().reload()

    def process(self, events: Sequence[Event]) -> list[Alert]:
        if any(e.get("seq") == 5 for e in events):
            raise KeyError("bug")
        return super().process(events)


def test_detector_bugs_are_counted_and_detection_goes_on(tmp_path: Path) -> None:
    ctx = _ctx(tmp_path)
    det = Crashing(ctx)
    det.reload()
    rec = Recorder(ctx, "rec")
    p = Pipeline(ctx, _settings(aggregate_window=0.0), [ListSource(ctx, 20, batch=1)], [det],
                 [rec])
    assert p.reload_rules() is False  # not a RuleError: still a failed reload, rules stay
    p.start()
    assert p.wait() == 0
    assert len(rec.alerts) == 19
    assert ctx.metrics.value("ronda_errors_total", component="every") == 1


class Endless(Source):
    """A live source that emits as fast as it can until stopped."""

    def __init__(self, ctx: Context, name: str, policy: str, size: int) -> None:
        super().__init__(name, SourceConfig(type="x", overflow=policy, queue_size=size), ctx)

    def run(self, emit: Emit, stop: threading.Event) -> None:
        while not stop.is_set():
            emit([Event("t", 0.0, {}) for _ in range(100)], None)


def test_each_source_has_its_own_budget(tmp_path: Path) -> None:
    ctx = _ctx(tmp_path)
    gate = threading.Event()

    class Slow(EveryEvent):
        def process(self, events: Sequence[Event]) -> list[Alert]:
            gate.wait()
            return []

    det = Slow(ctx)
    files = Endless(ctx, "file", "block", 1000)
    udp = ListSource(ctx, 500, batch=100)
    udp.name, udp.config = "udp", SourceConfig(type="x", overflow="drop_newest",
                                              queue_size=1000)
    p = Pipeline(ctx, _settings(), [files, udp], [det], [])
    p.start()
    time.sleep(0.5)  # the file source fills its own share and blocks
    gate.set()
    p.request_stop()
    p.wait()
    assert ctx.metrics.value("ronda_dropped_total", component="udp", reason="queue_full") == 0
