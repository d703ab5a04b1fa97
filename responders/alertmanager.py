"""Page the on-call person: push alerts to Prometheus Alertmanager (API v2).

Configured as::

    responders:
      page:
        type: alertmanager
        urls: [http://127.0.0.1:9093]      # several = an HA cluster: each gets every alert
        min_severity: high
        username: ronda                    # optional basic auth; the password comes from
        password_file: /etc/ronda/am.pass  #   a file (or password_env: VARIABLE)
        kibana_url: https://kibana.example:5601

``handle`` only records alerts (it never waits for the network). A sender thread posts
them to ``{url}/api/v2/alerts`` at once, re-posts the active ones every
``resend_interval`` (so Alertmanager's ``resolve_timeout`` never ends them), and resolves
an alert (posts it once more with ``endsAt``) when its id has had no update for
``resolve_after``. Ronda alerts with the same label set are one Alertmanager alert; the
newest one is sent. Each URL has its own queue of label sets to post and its own
exponential backoff (``retry_initial`` doubling up to ``retry_max``) after network errors,
timeouts, HTTP 5xx and 429; any other HTTP error drops that batch (logged, counted in
``errors``). A URL going down and coming back is logged once each. ``flush`` and ``close``
try to send what is pending within ``timeout`` and never raise when Alertmanager is down.
Bookkeeping runs on the injected clock; :meth:`AlertmanagerResponder.tick` does one round
synchronously.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from prometheus_client import CollectorRegistry, Gauge

from responders.amclient import Outcome, UrlState, post_alerts
from responders.amconfig import AlertmanagerConfig, read_authorization
from responders.amformat import Fingerprint, alert_labels, am_alert, fingerprint
from ronda.component import Context, Responder
from ronda.pipeline.workers import ErrorLog
from ronda.schema import Alert

__all__ = ["AlertmanagerConfig", "AlertmanagerResponder"]

WAKE_INTERVAL = 0.5  # seconds between rounds of the sender thread
BATCH = 500  # alerts per POST


@dataclass(eq=False)
class _Active:
    alert: Alert
    labels: dict[str, str]
    fp: Fingerprint
    updated: float  # clock time of the last new alert or repeat with this id


@dataclass(eq=False)
class _Resolved:
    doc: dict[str, Any]  # the alert with endsAt
    waiting: set[int] = field(default_factory=set)  # URL indices that have not got it yet


_Item = tuple[Fingerprint, _Active | _Resolved]


class AlertmanagerResponder(Responder):
    """Pushes alerts to Alertmanager, keeps them alive, resolves them when they go quiet."""

    config_model = AlertmanagerConfig
    config: AlertmanagerConfig

    def __init__(self, name: str, config: AlertmanagerConfig, ctx: Context, *,
                 background: bool = True) -> None:
        """``background=False``: no sender thread; call :meth:`tick` (tests)."""
        super().__init__(name, config, ctx)
        self._authorization = read_authorization(config, ctx)
        self._urls = [UrlState(u, i) for i, u in enumerate(config.urls)]
        self._active: OrderedDict[str, _Active] = OrderedDict()  # oldest update first
        self._by_fp: dict[Fingerprint, dict[str, None]] = {}  # label set -> ids, newest last
        self._resolved: dict[Fingerprint, _Resolved] = {}
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._final_deadline = math.inf
        self._background = background
        self._thread: threading.Thread | None = None
        self._limit_logged = False
        self._bug_log = ErrorLog(ctx.log)
        self._reject_log = ErrorLog(ctx.log)  # at most one line per URL every 10 s
        m = ctx.metrics
        self._received = m.received.labels(component=name)
        self._emitted = m.emitted.labels(component=name)
        self._errors = m.errors.labels(component=name)
        self._dropped = m.dropped.labels(component=name, reason="active_limit")
        active = _gauge(m.registry, "ronda_alertmanager_active_alerts",
                        "Alerts the alertmanager responder keeps alive.", ["component"])
        active.labels(component=name).set_function(lambda: len(self._active))
        pending = _gauge(m.registry, "ronda_alertmanager_pending",
                         "Alertmanager alerts waiting to be posted, per URL.",
                         ["component", "url"])
        for u in self._urls:
            pending.labels(component=name, url=u.url).set_function(partial(len, u.pending))

    # the pipeline's side ---------------------------------------------------------------
    def handle(self, alerts: Sequence[Alert]) -> None:
        self._received.inc(len(alerts))
        floor = self.config.min_severity.rank
        chosen = [a for a in alerts if a.severity.rank >= floor]
        if not chosen:
            return
        now = self.ctx.clock.now()
        with self._lock:
            for alert in chosen:
                self._record(alert, now)
            self._enforce_limit(now)
        self._start_thread()
        self._wake.set()

    def flush(self) -> None:
        """Post what is pending to every URL not in backoff, within ``timeout``."""
        self._send_round(time.monotonic() + self.config.timeout)

    def close(self) -> None:
        """One last attempt to every URL (backoff ignored) within ``timeout``; then stop."""
        if self._stop.is_set():
            return
        self._final_deadline = time.monotonic() + self.config.timeout
        self._stop.set()
        self._wake.set()
        thread = self._thread
        if thread is not None:
            thread.join(self.config.timeout + 1.0)
        else:
            self._send_round(self._final_deadline, force=True)

    def tick(self) -> None:
        """One round at the clock's time: resolve quiet alerts, mark the resends that are
        due, post what is pending to every URL not in backoff. What the sender thread does
        every WAKE_INTERVAL; tests call it directly (``background=False``)."""
        self._housekeep(self.ctx.clock.now())
        self._send_round(math.inf)

    def _housekeep(self, now: float) -> None:
        with self._lock:
            quiet_since = now - self.config.resolve_after
            while self._active:
                aid, entry = next(iter(self._active.items()))
                if entry.updated > quiet_since:
                    break
                del self._active[aid]
                self._release(entry, now)
            resend = self.config.resend_interval
            for u in self._urls:
                for fp in self._by_fp:
                    if fp not in u.pending and now - u.sent.get(fp, -math.inf) >= resend:
                        u.pending[fp] = None

    # state (under self._lock) ------------------------------------------------------------
    def _record(self, alert: Alert, now: float) -> None:
        aid = alert.id
        label_set = alert_labels(alert, self.ctx.sensor)
        fp = fingerprint(label_set)
        old = self._active.pop(aid, None)
        if old is not None:
            if old.fp == fp:
                self._by_fp[fp].pop(aid, None)
            else:
                self._release(old, now)
        self._active[aid] = _Active(alert, label_set, fp, now)
        self._by_fp.setdefault(fp, {})[aid] = None
        self._resolved.pop(fp, None)
        for u in self._urls:
            u.pending[fp] = None

    def _release(self, entry: _Active, now: float) -> None:
        """``entry`` left the active set: resolve its label set unless another alert
        still holds it."""
        ids = self._by_fp.get(entry.fp, {})
        ids.pop(entry.alert.id, None)
        if ids:  # the newest remaining alert now stands for this label set
            for u in self._urls:
                u.pending[entry.fp] = None
            return
        self._by_fp.pop(entry.fp, None)
        doc = am_alert(entry.alert, entry.labels, self.config.kibana_url, now)
        self._resolved[entry.fp] = _Resolved(doc, {u.index for u in self._urls})
        for u in self._urls:
            u.sent.pop(entry.fp, None)
            u.pending[entry.fp] = None
        while len(self._resolved) > self.config.max_active:
            # Alertmanager ends these itself after its resolve_timeout.
            self._forget(next(iter(self._resolved)))

    def _forget(self, fp: Fingerprint) -> None:
        self._resolved.pop(fp, None)
        for u in self._urls:
            u.pending.pop(fp, None)

    def _enforce_limit(self, now: float) -> None:
        excess = len(self._active) - self.config.max_active
        if excess <= 0:
            return
        for _ in range(excess):
            _, entry = self._active.popitem(last=False)
            self._release(entry, now)
        self._dropped.inc(excess)
        if not self._limit_logged:
            self._limit_logged = True
            self.ctx.log.warning(
                "%s: more than %d active alerts; resolving the oldest (counted in "
                "ronda_dropped_total{reason=\"active_limit\"})", self.name, self.config.max_active)

    def _take(self, u: UrlState) -> list[_Item]:
        """Up to BATCH pending label sets of ``u``, with what to send for each."""
        items: list[_Item] = []
        while u.pending and len(items) < BATCH:
            fp = next(iter(u.pending))
            del u.pending[fp]
            ids = self._by_fp.get(fp)
            if ids:
                items.append((fp, self._active[next(reversed(ids))]))
            elif (res := self._resolved.get(fp)) is not None and u.index in res.waiting:
                items.append((fp, res))
        return items

    def _settle(self, u: UrlState, items: list[_Item], outcome: Outcome, now: float) -> None:
        if outcome.kind == "retry":
            for fp, what in items:
                if fp in self._by_fp or self._resolved.get(fp) is what:
                    u.pending.setdefault(fp, None)
            return
        for fp, what in items:
            if isinstance(what, _Resolved):
                if self._resolved.get(fp) is what:
                    what.waiting.discard(u.index)
                    if not what.waiting:
                        del self._resolved[fp]
            elif fp in self._by_fp:
                u.sent[fp] = now

    # sending -----------------------------------------------------------------------------
    def _send_round(self, deadline: float, force: bool = False) -> None:
        # Healthy URLs first, and URLs another thread is posting to last, so a dead or
        # slow URL never delays the others.
        busy = []
        for u in sorted(self._urls, key=lambda s: s.failures > 0):
            if u.pending and (force or self.ctx.clock.now() >= u.next_try):
                if not u.lock.acquire(blocking=False):
                    busy.append(u)
                    continue
                self._send_url(u, deadline, force)
        for u in busy:
            wait = deadline - time.monotonic()
            if u.lock.acquire(timeout=-1 if math.isinf(wait) else max(wait, 0.0)):
                self._send_url(u, deadline, force)

    def _send_url(self, u: UrlState, deadline: float, force: bool) -> None:
        """Post ``u``'s pending alerts in batches until done, failed or out of time.
        The caller holds ``u.lock``; this releases it."""
        try:
            while not (self._stop.is_set() and not force):
                with self._lock:
                    if not force and self.ctx.clock.now() < u.next_try:
                        return
                    items = self._take(u)
                if not items:
                    return
                remaining = deadline - time.monotonic()
                if remaining <= 0.01:
                    with self._lock:
                        self._settle(u, items, Outcome("retry", None, "deadline"), -math.inf)
                    return
                docs = [self._doc(what) for _, what in items]
                body = json.dumps(docs, separators=(",", ":")).encode("utf-8")
                outcome = post_alerts(u.url, body, min(self.config.timeout, remaining),
                                      self._authorization)
                with self._lock:
                    self._settle(u, items, outcome, self.ctx.clock.now())
                self._report(u, outcome, len(docs))
                if outcome.kind == "retry":
                    return
        finally:
            u.lock.release()

    def _doc(self, what: _Active | _Resolved) -> dict[str, Any]:
        if isinstance(what, _Resolved):
            return what.doc
        return am_alert(what.alert, what.labels, self.config.kibana_url, None)

    def _report(self, u: UrlState, outcome: Outcome, count: int) -> None:
        log = self.ctx.log
        if outcome.kind == "retry":
            self._errors.inc()
            delay = u.failed(self.ctx.clock.now(), self.config.retry_initial,
                             self.config.retry_max)
            if u.failures == 1:
                log.warning("%s: Alertmanager %s is unreachable (%s); keeping alerts pending, "
                            "retrying in %gs and then with backoff",
                            self.name, u.url, outcome.detail, delay)
            return
        failed_before = u.recovered()
        if failed_before:
            log.info("%s: Alertmanager %s is reachable again after %d failed attempts",
                     self.name, u.url, failed_before)
        if outcome.kind == "ok":
            self._emitted.inc(count)
        else:
            self._errors.inc()
            self._reject_log.report(
                f"{self.name} {u.url}",
                f"{self.name}: Alertmanager {u.url} refused {count} alerts, dropped them: "
                f"{outcome.detail}")

    # the sender thread -------------------------------------------------------------------
    def _start_thread(self) -> None:
        if not self._background or self._thread is not None or self._stop.is_set():
            return
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, daemon=True,
                                                name=f"alertmanager:{self.name}")
                self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(WAKE_INTERVAL)
            self._wake.clear()
            if self._stop.is_set():
                break
            self._guarded(self.tick)
        self._guarded(lambda: self._send_round(self._final_deadline, force=True))

    def _guarded(self, fn: Callable[[], object]) -> None:
        try:
            fn()
        except Exception as exc:  # a bug must not end paging for good: count, log, go on
            self._errors.inc()
            self._bug_log.report(self.name, f"responder {self.name}: sender failed: {exc!r}")


def _gauge(registry: CollectorRegistry, name: str, doc: str, label_names: list[str]) -> Gauge:
    """A gauge on the daemon's registry, shared by every alertmanager responder in it."""
    try:
        return Gauge(name, doc, label_names, registry=registry)
    except ValueError:  # already registered by another alertmanager responder
        existing = registry._names_to_collectors.get(name)
        if isinstance(existing, Gauge):
            return existing
        raise
