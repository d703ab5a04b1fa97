"""Thread topology: sources -> one bounded detection queue -> detectors in order ->
aggregation -> one bounded queue and thread per responder.

A slow or dead responder only fills its own queue (its overflow policy drops, counted);
detection and the other responders go on. Source positions become checkpoints only when
every responder has flushed everything that came before them (a Barrier).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from typing import Any

from ronda.clock import EventClock
from ronda.component import Context, Detector, Responder, Source
from ronda.config import PipelineSettings
from ronda.errors import RondaError, RuleError
from ronda.pipeline.aggregate import Aggregator
from ronda.pipeline.checkpoint import Barrier, CheckpointStore
from ronda.pipeline.queues import BoundedQueue, Entry, Policy
from ronda.pipeline.workers import ErrorLog, ResponderWorker
from ronda.schema import Alert, Event

DETECT = "detect"
REPLAY_DRAIN_SECONDS = 7 * 24 * 3600.0


class Pipeline:
    def __init__(
        self,
        ctx: Context,
        settings: PipelineSettings,
        sources: Sequence[Source],
        detectors: Sequence[Detector],
        responders: Sequence[Responder],
        checkpoints: CheckpointStore | None = None,
        *,
        lossless: bool = False,
    ) -> None:
        """``lossless``: every responder queue blocks instead of dropping (replay: the
        input can wait, so nothing is ever dropped)."""
        self.ctx = ctx
        self.settings = settings
        self.sources = list(sources)
        self.detectors = list(detectors)
        self.checkpoints = checkpoints
        self.aggregator = Aggregator(settings.aggregate_window, settings.max_open_alerts)
        # Each source has its own budget (queue_size) in the one detection queue.
        capacity = max(1, sum(s.config.queue_size for s in self.sources))
        self.queue = BoundedQueue(capacity, "block")
        # Live, a failing responder is retried until it recovers (its queue absorbs the
        # wait); replay gives up after a few attempts, counts the loss and exits 1.
        self.workers = [ResponderWorker(r, ctx, "block" if lossless else None,
                                        max_attempts=3 if lossless else None)
                        for r in responders]
        self._detect_done = threading.Event()
        self._lossless = lossless
        self._errors = ErrorLog(ctx.log)
        self._stop_sources = threading.Event()
        self._stop_requested = threading.Event()
        self._reload_requested = threading.Event()
        self._positions: dict[str, Any] = {}
        self._saved: dict[str, Any] = {}
        self._save_lock = threading.Lock()
        self._barrier: Barrier | None = None
        self._source_threads: list[threading.Thread] = []
        self._failed_sources: list[str] = []
        self.source_errors: list[Exception] = []  # what ended finite sources early
        self._detect_thread = threading.Thread(target=self._detect_loop, name=DETECT, daemon=True)
        m = ctx.metrics
        m.queue_depth.labels(component=DETECT).set_function(lambda: self.queue.depth)
        m.queue_capacity.labels(component=DETECT).set(capacity)

    # control ---------------------------------------------------------------------------
    def start(self) -> None:
        m, now = self.ctx.metrics, self.ctx.clock.now()
        for src in self.sources:
            m.last_event.labels(source=src.name).set(now)  # silence counts from the start
            if src.config.expected_interval is not None:
                m.expected_interval.labels(source=src.name).set(src.config.expected_interval)
            if self.checkpoints is not None:
                saved = self.checkpoints.load(src.name)
                if saved is not None:
                    src.restore(saved)
                    self._saved[src.name] = saved
            t = threading.Thread(target=self._run_source, args=(src,), name=f"source:{src.name}",
                                 daemon=True)
            self._source_threads.append(t)
        for w in self.workers:
            w.start()
        self._detect_thread.start()
        for t in self._source_threads:
            t.start()

    def request_stop(self) -> None:
        self._stop_requested.set()

    def request_reload(self) -> None:
        self._reload_requested.set()

    def wait(self) -> int:
        """Block until stopped (or every finite source ended); drain and flush. Exit code."""
        while not self._stop_requested.wait(0.1):
            if all(s.finite for s in self.sources) and not any(
                t.is_alive() for t in self._source_threads
            ):
                break
        return self.shutdown()

    def shutdown(self) -> int:
        # Live: SIGTERM must finish within shutdown_timeout. Replay: the input is read,
        # so wait for everything it raised to be handled, however long that takes.
        budget = REPLAY_DRAIN_SECONDS if self._lossless else self.settings.shutdown_timeout
        deadline = time.monotonic() + budget
        self._stop_sources.set()
        for t in self._source_threads:
            t.join(max(0.1, deadline - time.monotonic()))
        self.queue.close()  # a source still blocked on a full queue gets through
        self.queue.put(Entry("end"))
        # Leave a second of the deadline for the responders' final flush.
        self._detect_thread.join(max(0.1, deadline - 1.0 - time.monotonic()))
        if self._detect_thread.is_alive():  # blocked on a hung "block" responder
            for w in self.workers:
                w.abort.set()
                w.queue.close()
            self._detect_thread.join(0.5)
            for w in self.workers:
                w.queue.put(Entry("end"))
        for w in self.workers:
            w.join(deadline)
        for w in self.workers:
            w.abort.set()
            w.join(time.monotonic() + 0.5)
        stuck = [w.responder.name for w in self.workers if w.alive]
        if stuck:
            self.ctx.log.warning(
                "responders %s did not finish in time; their inputs will be read again from "
                "the last checkpoint", ", ".join(stuck))
        failed = [w.responder.name for w in self.workers if w.failed]
        if failed:
            self.ctx.log.error("responders %s gave up on some items (counted in "
                               "ronda_dropped_total{reason=\"responder_failed\"})",
                               ", ".join(failed))
        ok = self._detect_done.is_set() and not self._failed_sources and not failed
        return 0 if ok else 1

    # sources ---------------------------------------------------------------------------
    def _run_source(self, src: Source) -> None:
        policy: Policy = "drop_newest" if src.config.overflow == "drop_newest" else "block"
        dropped = self.ctx.metrics.dropped.labels(component=src.name, reason="queue_full")

        limit = src.config.queue_size

        def emit(events: list[Event], position: Any) -> None:
            n = self.queue.put(Entry("events", events, source=src.name, position=position),
                               policy, limit)
            if n:
                dropped.inc(n)

        while not self._stop_sources.is_set():
            try:
                src.run(emit, self._stop_sources)
                if src.finite:
                    return
            except Exception as exc:  # a source bug or I/O failure must not kill the daemon
                self.ctx.metrics.errors.labels(component=src.name).inc()
                text = str(exc) if isinstance(exc, RondaError) else repr(exc)
                self._errors.report(src.name, f"source {src.name} failed: {text}")
                if src.finite:
                    self._failed_sources.append(src.name)
                    self.source_errors.append(exc)
                    return
            self._stop_sources.wait(self.settings.source_restart_delay)

    # detection -------------------------------------------------------------------------
    def _detect_loop(self) -> None:
        next_checkpoint = time.monotonic() + self.settings.checkpoint_interval
        while True:
            entry = self.queue.get(0.2)
            if entry is not None and entry.kind == "end":
                break
            try:
                if entry is not None:
                    self._detect(entry)
                if self._reload_requested.is_set():
                    self._reload_requested.clear()
                    self.reload_rules()
                self._send(self.aggregator.expire(self.ctx.clock.now()))
                if time.monotonic() >= next_checkpoint:
                    next_checkpoint = time.monotonic() + self.settings.checkpoint_interval
                    if self._barrier is None or self._barrier.done.is_set():
                        self._issue_barrier()
            except Exception as exc:  # never let one bad batch stop detection
                self.ctx.metrics.errors.labels(component=DETECT).inc()
                self._errors.report(DETECT, f"detection step failed: {exc!r}")
        self._send(self.aggregator.flush_all())
        self._issue_barrier(final=True)
        for w in self.workers:
            w.queue.put(Entry("end"))
        self._detect_done.set()

    def _detect(self, entry: Entry) -> None:
        events: list[Event] = entry.items
        if events:
            if isinstance(self.ctx.clock, EventClock):
                self.ctx.clock.observe(max(e.timestamp for e in events))
            alerts: list[Alert] = []
            for d in self.detectors:
                try:
                    alerts.extend(d.process(events))
                except Exception as exc:
                    self.ctx.metrics.errors.labels(component=d.name).inc()
                    self._errors.report(d.name, f"detector {d.name} failed on a batch: {exc!r}")
            for w in self.workers:
                if w.responder.wants_events:
                    w.put(Entry("events", list(events)))
            now = self.ctx.clock.now()
            outgoing: list[Alert] = []
            for alert in alerts:
                out, merged = self.aggregator.add(alert, now)
                if merged:
                    self.ctx.metrics.alert_repeats.labels(rule=alert.rule.id).inc()
                else:
                    self.ctx.metrics.alerts.labels(
                        category=alert.rule.category, severity=alert.severity.value).inc()
                outgoing.extend(out)
            self._send(outgoing)
        if entry.position is not None:
            self._positions[entry.source] = entry.position

    def _send(self, alerts: list[Alert]) -> None:
        if not alerts:
            return
        for w in self.workers:
            w.put_alerts(alerts)

    def reload_rules(self) -> bool:
        ok = True
        for d in self.detectors:
            try:
                n = d.reload()
            except Exception as exc:  # RuleError, or anything a broken file provokes
                ok = False
                lines = exc.lines if isinstance(exc, RuleError) else (repr(exc),)
                more = f" (+{len(lines) - 1} more problems)" if len(lines) > 1 else ""
                self.ctx.log.error("detector %s: rule reload failed, the running rules stay: "
                                   "%s%s", d.name, lines[0] if lines else exc, more)
                self.ctx.metrics.rule_reloads.labels(detector=d.name, result="failed").inc()
                continue
            self.ctx.log.info("detector %s: reloaded %d rules", d.name, n)
            self.ctx.metrics.rule_reloads.labels(detector=d.name, result="ok").inc()
        return ok

    # checkpoints -----------------------------------------------------------------------
    def _issue_barrier(self, final: bool = False) -> None:
        changed = {k: v for k, v in self._positions.items() if self._saved.get(k) != v}
        if not changed and not final:
            return
        barrier = Barrier(changed, {w.responder.name for w in self.workers}, self._save)
        self._barrier = barrier
        for w in self.workers:
            w.queue.put(Entry("barrier", control=barrier))

    def _save(self, positions: dict[str, Any]) -> None:
        if not positions or self.checkpoints is None:
            return
        with self._save_lock:
            try:
                self.checkpoints.save(positions)
            except OSError as exc:
                self._errors.report("checkpoint", f"cannot save checkpoints: {exc}")
                return
            self._saved.update(positions)
            now = time.time()
            for name in positions:
                self.ctx.metrics.checkpoint_time.labels(source=name).set(now)
