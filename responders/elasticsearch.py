"""Alerts (and optionally raw events) into Elasticsearch data streams, none lost.

Configured as::

    responders:
      es:
        type: elasticsearch
        hosts: [https://es1.example:9200, https://es2.example:9200]
        ca_file: /etc/ronda/es-ca.pem
        api_key_file: /etc/ronda/es.key
        namespace: diskominfo
        spool: {max_bytes: 1GiB, fsync: batch}
        events: {enabled: true, sample_rate: 0.1, datasets: [nginx.*]}
        geoip: {database: /var/lib/ronda/GeoLite2-City.mmdb}

Write-ahead: :meth:`ElasticsearchResponder.handle` appends the documents to a disk spool
(:mod:`responders.spool`) and returns once they are durable there (a full spool raises,
and the pipeline retries while the responder queue absorbs new alerts). A sender thread
(:mod:`responders.essender`) drains the spool from its head, in order, in bulk requests
(:mod:`responders.esbulk`),
and acknowledges what Elasticsearch took: created, already there (409), or refused as
malformed (400, written to the dead-letter file). On 429/5xx, connection errors and
timeouts it stops, keeps the rest and retries from the same document after a backoff
(``retry_initial`` doubling to ``retry_max``, on a monotonic clock that tests inject).
The spool survives restarts: what was not delivered is sent first on the next start.
Index templates are installed (``setup``) when Elasticsearch is first reachable, before
anything is drained. :meth:`ElasticsearchResponder.tick` is one sender round (tests call
it directly with ``background=False``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from fnmatch import fnmatchcase

from elasticsearch import Elasticsearch

from responders.deadletter import DeadLetters
from responders.esconfig import ElasticsearchConfig
from responders.esconn import make_client
from responders.esdocs import (
    alert_doc,
    alert_stream,
    dump,
    encode,
    event_doc,
    event_id,
    event_stream,
    sampled,
)
from responders.essender import Sender
from responders.geoip import GeoIP
from responders.spool import Spool, SpoolFull
from ronda.component import Context, Responder
from ronda.schema import Alert, Event

__all__ = ["ElasticsearchConfig", "ElasticsearchResponder"]


class ElasticsearchResponder(Responder):
    config_model = ElasticsearchConfig
    config: ElasticsearchConfig

    def __init__(self, name: str, config: ElasticsearchConfig, ctx: Context, *,
                 client: Elasticsearch | None = None, background: bool = True,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        """``client``: use this one instead of building one from the settings (tests).
        ``background=False``: no sender thread; call :meth:`tick`. ``monotonic``: the
        clock of backoff and batching."""
        super().__init__(name, config, ctx)
        self.wants_events = config.events.enabled
        self.client = client if client is not None else make_client(config, ctx)
        self.dead_letter_path = config.dead_letter_path(ctx.state_dir, name)
        self.spool = Spool(ctx.state_dir / name / "spool", clock=ctx.clock,
                           max_bytes=config.spool.max_bytes,
                           segment_bytes=config.spool.segment_bytes,
                           fsync=config.spool.fsync, fsync_interval=config.spool.fsync_interval)
        self.dead_letters = DeadLetters(self.dead_letter_path, name, ctx.clock,
                                        config.dead_letter_max_bytes)
        self.geoip: GeoIP | None = None
        if config.geoip is not None:
            self.geoip = GeoIP.open(ctx.resolve(config.geoip.database), ctx.log, name,
                                    config.geoip.cache_size)
        self.sender = Sender(name, config, ctx, self.client, self.spool, self.dead_letters,
                             monotonic)
        self._alerts_index = alert_stream(config.namespace)
        self._full = False
        self._closed = False
        m = ctx.metrics
        self._received = m.received.labels(component=name)
        m.spool_bytes.labels(component=name).set_function(lambda: self.spool.pending_bytes)
        m.spool_oldest_age.labels(component=name).set_function(self._oldest_age)
        self._report_leftovers()
        if background:
            self.sender.start()

    def _oldest_age(self) -> float:
        t = self.spool.oldest_time()
        return 0.0 if t is None else max(0.0, self.ctx.clock.now() - t)

    def _report_leftovers(self) -> None:
        if self.spool.truncated:
            self.ctx.metrics.dropped.labels(component=self.name, reason="spool_corrupt").inc(
                self.spool.truncated)
            self.ctx.log.warning("%s: cut off %d partial records at the end of the spool "
                                 "(a crash during a write; the alerts are raised again from "
                                 "the last checkpoint)", self.name, self.spool.truncated)
        pending = self.spool.pending_bytes
        if pending:
            self.ctx.log.info("%s: %d bytes left in the spool %s by the last run; sending "
                              "them first", self.name, pending, self.spool.path)

    # the pipeline's side ---------------------------------------------------------------
    def handle(self, alerts: Sequence[Alert]) -> None:
        self._received.inc(len(alerts))
        floor, ns = self.config.min_severity.rank, self.config.namespace
        payloads = []
        for alert in alerts:
            if alert.severity.rank < floor:
                continue
            doc = alert_doc(alert, ns)
            if self.geoip is not None:
                self.geoip.enrich(doc)
            payloads.append(encode("a", self._alerts_index, alert.id, dump(doc), alert.count))
        self._append(payloads)

    def handle_events(self, events: Sequence[Event]) -> None:
        settings = self.config.events
        if not settings.enabled:
            return
        sensor, ns, patterns = self.ctx.sensor, self.config.namespace, settings.datasets
        payloads = []
        for event in events:
            if patterns is not None and not any(fnmatchcase(event.dataset, p)
                                                for p in patterns):
                continue
            doc_id = event_id(event, sensor)
            if not sampled(doc_id, settings.sample_rate):
                continue
            doc = event_doc(event, sensor, ns)
            if self.geoip is not None:
                self.geoip.enrich(doc)
            payloads.append(encode("e", event_stream(event.dataset, ns), doc_id, dump(doc)))
        self._append(payloads)

    def _append(self, payloads: list[bytes]) -> None:
        if not payloads:
            return
        try:
            self.spool.append(payloads)
        except SpoolFull as exc:
            if not self._full:
                self._full = True
                self.ctx.log.error(
                    "%s: %s: Elasticsearch is not taking documents; new alerts wait in the "
                    "responder queue (its overflow is counted in ronda_dropped_total)",
                    self.name, exc)
            raise
        if self._full:
            self._full = False
            self.ctx.log.info("%s: the spool has room again", self.name)
        self.sender.wake()

    def flush(self) -> None:
        """Everything handled so far is on disk (the spool is fsync'd)."""
        self.spool.sync()

    def close(self) -> None:
        """Keep sending for up to ``drain_timeout`` while Elasticsearch takes documents,
        then stop; what is left stays in the spool for the next start."""
        if self._closed:
            return
        self._closed = True
        self.sender.stop(self.config.drain_timeout)
        left = self.spool.pending_bytes
        if left:
            self.ctx.log.info("%s: %d bytes stay in the spool %s; they are sent when Ronda "
                              "starts again", self.name, left, self.spool.path)
        self.spool.close()
        if self.geoip is not None:
            self.geoip.close()
        self.client.close()

    def tick(self) -> float | None:
        """One sender round (see :meth:`responders.essender.Sender.tick`)."""
        return self.sender.tick()
