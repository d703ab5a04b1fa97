"""The sender of the elasticsearch responder: drains the spool into Elasticsearch.

One round (:meth:`Sender.tick`): put the index templates first if they are not yet put
(``setup``), read up to ``batch_size`` records from the spool head, send them
(:func:`responders.esbulk.deliver`), write refused documents to the dead-letter file,
acknowledge what Elasticsearch took. A failure (unreachable, 429/5xx, credentials
refused) leaves the rest in the spool and backs off: ``retry_initial`` doubling to
``retry_max``, measured on an injected monotonic clock (not the event clock of
``ronda replay``, which stands still at the end of the input). A batch smaller than
``batch_size`` waits up to ``flush_interval`` for more. The thread runs rounds until
:meth:`Sender.stop`.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from elasticsearch import Elasticsearch

from responders.deadletter import DeadLetters
from responders.esbulk import Failure, Item, Outcome, deliver
from responders.esconfig import ElasticsearchConfig
from responders.esconn import classify, describe
from responders.esdocs import SpoolDoc, decode
from responders.essetup import ensure_setup
from responders.spool import Record, Spool
from ronda.component import Context
from ronda.pipeline.workers import ErrorLog

MAX_BULK_BYTES = 10 * 1024 * 1024  # per request (Elasticsearch accepts up to 100 MB)
IDLE_WAIT = 1.0  # seconds the thread sleeps when there is nothing to do
JOIN_WAIT = 1.0  # seconds stop() waits for a request in flight
REMIND_EVERY = 300.0  # seconds between "still failing" lines during a long outage


class Sender:
    def __init__(self, name: str, config: ElasticsearchConfig, ctx: Context,
                 client: Elasticsearch, spool: Spool, dead_letters: DeadLetters,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.name, self.config, self.ctx = name, config, ctx
        self.client, self.spool, self.dead_letters = client, spool, dead_letters
        self.failures = 0  # consecutive failed rounds
        self.draining = False  # closing: send small batches at once
        self._monotonic = monotonic
        self._need_setup = config.setup
        self._next_try = -math.inf
        self._reported = -math.inf  # when the last failure line was logged
        self._batch_limit = config.batch_size
        self._linger_since: float | None = None
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._bug_log = ErrorLog(ctx.log)
        self._reject_log = ErrorLog(ctx.log, interval=60.0)
        m = ctx.metrics
        self._emitted = m.emitted.labels(component=name)
        self._errors = m.errors.labels(component=name)
        self._retries = m.retries.labels(component=name)
        self._rejected = m.rejected.labels(component=name)
        self._corrupt = m.dropped.labels(component=name, reason="spool_corrupt")

    # the thread --------------------------------------------------------------------------
    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, daemon=True,
                                        name=f"elasticsearch:{self.name}")
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self, drain_timeout: float) -> None:
        """Keep sending for up to ``drain_timeout`` while Elasticsearch takes documents,
        then end the thread (a request in flight gets :data:`JOIN_WAIT` more)."""
        thread = self._thread
        if thread is not None and thread.is_alive():
            deadline = time.monotonic() + drain_timeout
            self.draining = True
            self._wake.set()
            while (time.monotonic() < deadline and self.failures == 0
                   and not self.spool.empty and thread.is_alive()):
                time.sleep(0.02)
            self._stop.set()
            self._wake.set()
            thread.join(JOIN_WAIT)
        self._stop.set()
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            try:
                wait = self.tick()
            except Exception as exc:  # a bug (or a full disk) must not end delivery for good
                self._errors.inc()
                self._bug_log.report(self.name, f"responder {self.name}: sender failed: "
                                                f"{exc!r}")
                wait = IDLE_WAIT
            if self._stop.is_set():
                break
            if wait is not None and wait <= 0:
                continue
            self._wake.wait(IDLE_WAIT if wait is None else min(wait, IDLE_WAIT))

    # one round ---------------------------------------------------------------------------
    def tick(self) -> float | None:
        """One round. Returns how long to wait before the next one is useful (0: at once;
        None: until new documents arrive)."""
        now = self._monotonic()
        if now < self._next_try:
            return self._next_try - now
        if self._need_setup and (failure := self._setup()) is not None:
            return self._failed(failure, now)
        limit = self._batch_limit
        records = self.spool.read(limit * self.config.parallel_requests,
                                  MAX_BULK_BYTES * self.config.parallel_requests)
        if not records:
            self._linger_since = None
            return None
        if len(records) < limit and not self.draining:
            if self._linger_since is None:
                self._linger_since = now
            wait = self._linger_since + self.config.flush_interval - now
            if wait > 0:
                return wait
        self._linger_since = None
        items = [Item(r.end, _decode(r)) for r in records]
        batches = [items[i:i + limit] for i in range(0, len(items), limit)]
        if len(batches) == 1:
            return self._settle(deliver(self.client, items), len(items), now)
        # Several requests at once, settled in order: after a failed one, the answers of
        # the later ones are dropped and their documents sent again (found there: 409).
        pool = self._pool or ThreadPoolExecutor(self.config.parallel_requests - 1,
                                                thread_name_prefix=f"es-bulk:{self.name}")
        self._pool = pool
        later = [pool.submit(deliver, self.client, b) for b in batches[1:]]
        outcomes = [deliver(self.client, batches[0])] + [f.result() for f in later]
        for batch, outcome in zip(batches, outcomes, strict=True):
            wait = self._settle(outcome, len(batch), now)
            if outcome.failure is not None:
                return wait
        return 0.0

    def _settle(self, outcome: Outcome, sent: int, now: float) -> float:
        if outcome.dead:
            try:
                self.dead_letters.write(outcome.dead)
            except OSError as exc:
                return self._failed(Failure("other", f"cannot write the dead-letter file "
                                            f"{self.dead_letters.path}: "
                                            f"{exc.strerror or exc}"), now)
            first = outcome.dead[0]
            self._reject_log.report(self.name, (
                f"{self.name}: Elasticsearch refused {len(outcome.dead)} documents as "
                f"malformed; written to {self.dead_letters.path} (first: HTTP "
                f"{first.status} {first.error_type}: {first.reason[:200]})"))
        if outcome.acked is not None:
            self.spool.ack(outcome.acked)
        self._emitted.inc(outcome.delivered)
        self._rejected.inc(len(outcome.dead))
        self._corrupt.inc(outcome.skipped)
        if outcome.failure is not None:
            if outcome.failure.kind == "too_large" and sent > 1:
                self._batch_limit = max(1, sent // 2)  # 413: smaller requests
                return 0.0
            return self._failed(outcome.failure, now)
        self._batch_limit = self.config.batch_size
        self._recovered()
        return 0.0

    def _setup(self) -> Failure | None:
        try:
            ensure_setup(self.client, self.ctx.log)
        except Exception as exc:
            kind = classify(exc)
            if kind in ("unavailable", "auth"):
                return Failure(kind, f"index template setup: {describe(exc)}")
            self._errors.inc()
            self.ctx.log.error("%s: installing the index templates failed (%s); sending "
                               "documents anyway", self.name, describe(exc))
        self._need_setup = False
        return None

    def _failed(self, failure: Failure, now: float) -> float:
        self.failures += 1
        self._retries.inc()
        self._errors.inc()
        cfg = self.config
        delay = min(cfg.retry_initial * 2.0 ** min(self.failures - 1, 60), cfg.retry_max)
        self._next_try = now + delay
        log = self.ctx.log.error if failure.kind == "auth" else self.ctx.log.warning
        if self.failures == 1:
            what = {"unavailable": "is unreachable or overloaded",
                    "auth": "refuses Ronda's credentials",
                    "rejected": "refuses the request"}.get(failure.kind,
                                                           "refuses the documents")
            log("%s: Elasticsearch %s (%s); documents stay in the spool, retrying in %gs "
                "and then with backoff", self.name, what, failure.detail, delay)
            self._reported = now
        elif now - self._reported >= REMIND_EVERY:
            log("%s: Elasticsearch still failing after %d attempts (%s); %d bytes in the "
                "spool", self.name, self.failures, failure.detail, self.spool.pending_bytes)
            self._reported = now
        return delay

    def _recovered(self) -> None:
        if self.failures:
            self.ctx.log.info("%s: Elasticsearch takes documents again after %d failed "
                              "attempts; %d bytes to send from the spool", self.name,
                              self.failures, self.spool.pending_bytes)
        self.failures = 0
        self._next_try = -math.inf


def _decode(record: Record) -> SpoolDoc | None:
    if not record.valid:
        return None
    try:
        return decode(record.payload)
    except ValueError:
        return None
