"""One thread and one bounded queue per responder; rate-limited error logging."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from ronda.component import Context, Responder
from ronda.pipeline.checkpoint import Barrier
from ronda.pipeline.queues import BoundedQueue, Entry, Policy
from ronda.schema import Alert

IDLE_FLUSH_SECONDS = 1.0
RETRY_INITIAL = 0.5
RETRY_MAX = 30.0


class ErrorLog:
    """Logs a component's errors at most once per ``interval`` seconds, with a count."""

    def __init__(self, log: logging.Logger, interval: float = 10.0) -> None:
        self.log = log
        self.interval = interval
        self._last: dict[str, float] = {}
        self._suppressed: dict[str, int] = {}
        self._lock = threading.Lock()

    def report(self, component: str, message: str) -> None:
        now = time.monotonic()
        with self._lock:
            if now - self._last.get(component, -1e9) < self.interval:
                self._suppressed[component] = self._suppressed.get(component, 0) + 1
                return
            self._last[component] = now
            hidden = self._suppressed.pop(component, 0)
        suffix = f" ({hidden} similar errors not shown)" if hidden else ""
        self.log.error("%s%s", message, suffix)


class ResponderWorker:
    def __init__(self, responder: Responder, ctx: Context, policy: Policy | None = None,
                 max_attempts: int | None = None) -> None:
        self.responder = responder
        self.max_attempts = max_attempts
        self.abort = threading.Event()  # set at the shutdown deadline: stop retrying
        self.failed = False  # gave up on an entry (its items are counted as dropped)
        self.ctx = ctx
        cfg = responder.config
        self.min_rank = cfg.min_severity.rank
        self.queue = BoundedQueue(cfg.queue_size, policy or cfg.overflow)
        self._errors = ErrorLog(ctx.log)
        self._dropped = ctx.metrics.dropped.labels(component=responder.name, reason="queue_full")
        self._thread = threading.Thread(target=self._loop, name=f"responder:{responder.name}",
                                        daemon=True)
        ctx.metrics.queue_depth.labels(component=responder.name).set_function(
            lambda: self.queue.depth)
        ctx.metrics.queue_capacity.labels(component=responder.name).set(cfg.queue_size)

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def start(self) -> None:
        self._thread.start()

    def join(self, deadline: float) -> None:
        self._thread.join(max(0.1, deadline - time.monotonic()))

    def put(self, entry: Entry) -> None:
        dropped = self.queue.put(entry)
        if dropped:
            self._dropped.inc(dropped)

    def put_alerts(self, alerts: list[Alert]) -> None:
        chosen = [a for a in alerts if a.severity.rank >= self.min_rank]
        if chosen:
            self.put(Entry("alerts", chosen))

    def _loop(self) -> None:
        r = self.responder
        dirty = False
        while True:
            entry = self.queue.get(IDLE_FLUSH_SECONDS)
            if entry is None:
                if dirty:
                    dirty = not self._call("flush", r.flush)
                continue
            if entry.kind == "end":
                self._call("flush", r.flush)
                self._call("close", r.close)
                return
            if self._with_retries(entry):
                dirty = entry.kind != "barrier"

    def _with_retries(self, entry: Entry) -> bool:
        """Run one entry; on failure retry with backoff (a failed batch is never dropped
        silently, and a barrier is acked only once everything before it is durable).
        Gives up after ``max_attempts`` (replay) or when told to abort (shutdown)."""
        delay, attempts = RETRY_INITIAL, 0
        while True:
            attempts += 1
            if self._run(entry):
                return True
            limit = self.max_attempts
            if limit is not None and self.failed:
                limit = 1  # already given up once: do not wait again for every batch
            if (limit is not None and attempts >= limit) or self.abort.wait(delay):
                if entry.items:
                    self.ctx.metrics.dropped.labels(
                        component=self.responder.name, reason="responder_failed"
                    ).inc(len(entry.items))
                self.failed = True
                return False
            delay = min(delay * 2, RETRY_MAX)

    def _run(self, entry: Entry) -> bool:
        r = self.responder
        if entry.kind == "alerts":
            return self._call("handle", r.handle, entry.items)
        if entry.kind == "events":
            return self._call("handle_events", r.handle_events, entry.items)
        if entry.kind == "barrier" and isinstance(entry.control, Barrier):
            if not self._call("flush", r.flush):
                return False
            entry.control.ack(r.name)
        return True

    def _call(self, what: str, fn: Callable[..., object], *args: object) -> bool:
        try:
            fn(*args)
            return True
        except Exception as exc:  # a responder failure is counted and logged, never fatal
            self.ctx.metrics.errors.labels(component=self.responder.name).inc()
            self._errors.report(self.responder.name,
                                f"responder {self.responder.name}: {what} failed: {exc!r}")
            return False
