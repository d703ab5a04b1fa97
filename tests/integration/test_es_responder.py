"""The elasticsearch responder against a real Elasticsearch (no mock): exactly one document
per alert, mappings from Ronda's templates, updates, dead letters, events and GeoIP; an
outage in the middle of a stream and a daemon restarted while Elasticsearch is down lose
nothing and duplicate nothing.

In-process tests use the session's server (``es_server``) with a namespace of their own,
so no reset (a restart of the integ-test server) is needed between them."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from elasticsearch import Elasticsearch
from elasticsearch.helpers import scan

from responders.elasticsearch import ElasticsearchConfig, ElasticsearchResponder
from responders.esdocs import alert_stream, event_stream
from responders.estemplates import ALERT_TEMPLATE, desired_objects, field_type, mapping_of
from ronda.clock import SystemClock
from ronda.component import Context
from ronda.metrics import Metrics
from ronda.schema import Alert, Event, RuleRef, Severity
from tests.integration.daemon import Daemon, wait_for, write_config
from tests.integration.esserver import EsServer
from tests.responders.mmdb import city, write_mmdb

RULE = RuleRef(id="t-web-probe", name="Web probe", ruleset="test", category="scanner")


def make_alert(i: int, *, count: int = 1, ip: str | None = None, t0: float = 1.8e9) -> Alert:
    ip = ip or f"36.{64 + i // 65536 % 32}.{i // 256 % 256}.{i % 256}"
    return Alert(rule=RULE, severity=Severity.HIGH, message=f"probe {i} from {ip}",
                 first_seen=t0 + i, last_seen=t0 + i + count, key=f"{ip}#{i}", count=count,
                 fields={"source.ip": ip, "url.path": f"/p/{i}", "http.response.status_code": 404},
                 evidence=(f"GET /p/{i}",), techniques=("T1595",), sensor="gw-01",
                 detector="thr", source="web")


@pytest.fixture
def responders(tmp_path: Path) -> Iterator[list[ElasticsearchResponder]]:
    made: list[ElasticsearchResponder] = []
    yield made
    for r in made:
        r.close()


def start(made: list[ElasticsearchResponder], url: str, tmp_path: Path, namespace: str,
          **settings: Any) -> tuple[ElasticsearchResponder, Context]:
    ctx = Context(sensor="gw-01", clock=SystemClock(), metrics=Metrics(),
                  state_dir=tmp_path / "state", log=logging.getLogger("test.es-responder"),
                  base_dir=tmp_path)
    config = ElasticsearchConfig.model_validate({
        "type": "elasticsearch", "hosts": [url], "namespace": namespace,
        "flush_interval": "100ms", "retry_max": "2s", **settings})
    r = ElasticsearchResponder("es", config, ctx)
    made.append(r)
    return r, ctx


def delivered(r: ElasticsearchResponder, timeout: float = 120) -> None:
    wait_for(lambda: r.spool.empty, timeout, "the spool to drain")


def event_ids(client: Elasticsearch, index: str) -> list[str]:
    client.indices.refresh(index=index)
    return [hit["_source"]["event"]["id"]
            for hit in scan(client, index=index, _source=["event.id"], size=5000)]


def test_10000_alerts_make_exactly_10000_documents_mapped_by_the_template(
        es_server: EsServer, tmp_path: Path, responders: list[ElasticsearchResponder]) -> None:
    r, ctx = start(responders, es_server.url, tmp_path, "tenk")
    alerts = [make_alert(i) for i in range(10_000)]
    for i in range(0, len(alerts), 250):
        r.handle(alerts[i:i + 250])
    r.handle(alerts[:300])  # sent again (a retry upstream): no second copy
    delivered(r)
    client = es_server.client()
    stream = alert_stream("tenk")
    ids = event_ids(client, stream)
    assert len(ids) == 10_000 and set(ids) == {a.id for a in alerts}
    assert ctx.metrics.value("ronda_emitted_total", component="es") == 10_300
    assert ctx.metrics.value("ronda_rejected_total", component="es") == 0
    # the fields are mapped as Ronda's template says (setup ran before the first write)
    backing = next(iter(client.indices.get_mapping(index=stream).body.values()))
    expected = mapping_of(desired_objects(False), ALERT_TEMPLATE)
    for name in ("@timestamp", "source.ip", "event.id", "event.severity", "rule.category",
                 "ronda.count", "ronda.first_seen", "ronda.evidence", "threat.technique.id",
                 "url.path", "http.response.status_code", "data_stream.dataset"):
        want = field_type(expected, name)
        assert want is not None, name
        assert field_type(backing["mappings"], name) == want, name
    doc = client.get(index=backing_index(client, stream), id=alerts[7].id)["_source"]
    assert doc["event"]["id"] == alerts[7].id and doc["source"]["ip"] == "36.64.0.7"


def backing_index(client: Elasticsearch, stream: str) -> str:
    return str(next(iter(client.indices.get_mapping(index=stream).body)))


def test_an_alert_update_replaces_its_document(
        es_server: EsServer, tmp_path: Path, responders: list[ElasticsearchResponder]) -> None:
    r, _ = start(responders, es_server.url, tmp_path, "updates")
    r.handle([make_alert(1, count=1), make_alert(2)])
    delivered(r)
    r.handle([make_alert(1, count=9)])  # the aggregator's update at window close
    delivered(r)
    r.handle([make_alert(1, count=4)])  # an older version arriving late: ignored
    delivered(r)
    client = es_server.client()
    stream = alert_stream("updates")
    client.indices.refresh(index=stream)
    hits = client.search(index=stream, query={"term": {"event.id": make_alert(1).id}})
    assert hits["hits"]["total"]["value"] == 1
    assert hits["hits"]["hits"][0]["_source"]["ronda"]["count"] == 9
    assert client.count(index=stream)["count"] == 2


def test_a_malformed_document_goes_to_the_dead_letter_file_and_the_stream_goes_on(
        es_server: EsServer, tmp_path: Path, responders: list[ElasticsearchResponder]) -> None:
    r, ctx = start(responders, es_server.url, tmp_path, "dead")
    # ``url`` is an object in the template: a plain string there cannot be indexed (400)
    bad = make_alert(5).model_copy(update={"fields": {"url": "http://x.example/a"}})
    # a value the template ignores (index.mapping.ignore_malformed): stored, not refused
    odd = make_alert(6, ip="not-an-ip")
    good = [make_alert(i) for i in range(10) if i not in (5, 6)]
    r.handle([*good[:5], bad, odd, *good[5:]])
    delivered(r)
    client = es_server.client()
    stream = alert_stream("dead")
    assert sorted(event_ids(client, stream)) == sorted(a.id for a in [*good, odd])
    (line,) = r.dead_letter_path.read_text().splitlines()
    entry = json.loads(line)
    assert entry["id"] == bad.id and entry["index"] == stream and entry["status"] == 400
    assert entry["error"]["type"] == "document_parsing_exception"
    assert "[url]" in entry["error"]["reason"]
    assert entry["document"]["url"] == "http://x.example/a"
    assert ctx.metrics.value("ronda_rejected_total", component="es") == 1
    hit = client.search(index=stream, query={"term": {"event.id": odd.id}})["hits"]["hits"][0]
    assert hit["_ignored"] == ["source.ip"] and hit["_source"]["source"]["ip"] == "not-an-ip"


def test_events_and_geoip(es_server: EsServer, tmp_path: Path,
                          responders: list[ElasticsearchResponder]) -> None:
    db = write_mmdb(tmp_path / "city.mmdb", {
        "36.64.0.0/11": city("ID", "Indonesia", "Bandung", -6.9, 107.6, ("JB", "West Java"))})
    r, _ = start(responders, es_server.url, tmp_path, "geo", geoip={"database": str(db)},
                 events={"enabled": True, "datasets": ["nginx.*"]})
    events = [Event("nginx.access", 1.8e9 + i, {"source.ip": "36.70.0.1", "log.offset": i * 80,
                                                "url.path": f"/x{i}"}, f"line {i}", "web")
              for i in range(50)]
    r.handle_events(events)
    r.handle_events(events[:20])  # read again after a crash: no copies
    r.handle([make_alert(1, ip="36.70.0.2")])
    delivered(r)
    client = es_server.client()
    estream = event_stream("nginx.access", "geo")
    assert len(set(event_ids_or_doc_ids(client, estream))) == 50
    client.indices.refresh(index=alert_stream("geo"))
    box = {"geo_bounding_box": {"source.geo.location": {
        "top_left": {"lat": -6, "lon": 107}, "bottom_right": {"lat": -8, "lon": 108}}}}
    assert client.count(index=alert_stream("geo"), query=box)["count"] == 1
    assert client.count(index=estream, query=box)["count"] == 50
    mapping = next(iter(client.indices.get_mapping(index=estream).body.values()))["mappings"]
    assert field_type(mapping, "source.ip") == "ip"
    assert field_type(mapping, "source.geo.location") == "geo_point"


def event_ids_or_doc_ids(client: Elasticsearch, index: str) -> list[str]:
    client.indices.refresh(index=index)
    return [hit["_id"] for hit in scan(client, index=index, _source=False, size=5000)]


# the real daemon --------------------------------------------------------------------------

# One alert per probe from a new address: a single-event Sigma rule (alerts are keyed by
# source.ip).
DAEMON_RULE = """title: Probe
id: 3e5a7c9b-1d2f-4b6a-8c0e-2f4a6b8c0d1e
tags: [ronda.category.scanner]
logsource: {category: webserver}
detection:
  selection: {event.action: probe}
  condition: selection
level: high
"""


def daemon_config(tmp: Path, log: Path, url: str, namespace: str) -> Path:
    rules = tmp / "rules"
    rules.mkdir(exist_ok=True)
    (rules / "r.yml").write_text(DAEMON_RULE)
    return write_config(tmp / "ronda.yaml", {
        "sensor": {"name": "gw-01"},
        "pipeline": {"aggregate_window": "5s"},
        "sources": {"web": {"type": "logfile", "path": str(log), "format": "json"}},
        "detectors": {"t": {"type": "sigma", "rules": [str(rules)]}},
        "responders": {"es": {"type": "elasticsearch", "hosts": [url], "namespace": namespace,
                              "flush_interval": "200ms", "retry_max": "2s"}},
    })


class Writer:
    """Appends one probe line (a new source address, so one alert) at a time."""

    def __init__(self, log: Path) -> None:
        self.log = log
        self.n = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def write(self, count: int) -> None:
        with open(self.log, "a") as fh:
            for _ in range(count):
                i = self.n
                fh.write(json.dumps({"@timestamp": time.time(),
                                     "event": {"dataset": "http", "action": "probe"},
                                     "source": {"ip": f"10.{i // 65536 % 256}.{i // 256 % 256}"
                                                      f".{i % 256}"}}) + "\n")
                self.n += 1

    def stream(self, per_second: int) -> None:
        def run() -> None:
            while not self._stop.wait(0.1):
                self.write(max(1, per_second // 10))

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()


def stream_count(es: EsServer, namespace: str) -> int:
    client = es.client()
    stream = alert_stream(namespace)
    try:
        client.indices.refresh(index=stream)
        return int(client.count(index=stream)["count"])
    except Exception:
        return -1


def assert_once_each(es: EsServer, namespace: str, expected: int) -> None:
    ids = event_ids(es.client(), alert_stream(namespace))
    assert len(ids) == expected, f"{len(ids)} documents for {expected} alerts"
    assert len(set(ids)) == expected, "duplicates"


def test_elasticsearch_down_30s_in_the_middle_of_a_stream(es_server: EsServer,
                                                          tmp_path: Path) -> None:
    log = tmp_path / "web.json"
    log.touch()
    cfg = daemon_config(tmp_path, log, es_server.url, "outage")
    d = Daemon(cfg, tmp_path / "state", tmp_path / "ronda.out").start()
    writer = Writer(log)
    try:
        writer.stream(per_second=40)
        wait_for(lambda: stream_count(es_server, "outage") > 50, 60, "the first documents")
        es_server.stop()
        down_at = time.monotonic()
        wait_for(lambda: d.metric("ronda_retries_total", component="es") >= 1, 30,
                 "a failed attempt")
        wait_for(lambda: d.metric("ronda_spool_bytes", component="es") > 0, 30,
                 "alerts in the spool")
        time.sleep(max(0.0, 30 - (time.monotonic() - down_at)))
        assert d.metric("ronda_spool_oldest_age_seconds", component="es") > 5
        es_server.start()
        time.sleep(3)
        writer.stop()
        total = writer.n
        wait_for(lambda: stream_count(es_server, "outage") >= total, 120,
                 f"{total} documents after the outage")
        wait_for(lambda: d.metric("ronda_spool_bytes", component="es") == 0, 10,
                 "an empty spool")
        assert d.metric("ronda_emitted_total", component="es") >= total
        assert "takes documents again" in d.log()
    finally:
        writer.stop()
        if not es_server.running:
            es_server.start()
        code, _ = d.stop()
    assert code == 0
    assert_once_each(es_server, "outage", total)


def test_daemon_restarted_while_elasticsearch_is_down(es: EsServer, tmp_path: Path) -> None:
    """Started with Elasticsearch down (and no templates on it yet), stopped with SIGTERM
    while it is still down, started again once it is back: every alert arrives once, and
    the templates were put before the first document."""
    log = tmp_path / "web.json"
    log.touch()
    cfg = daemon_config(tmp_path, log, es.url, "restart")
    state = tmp_path / "state"
    writer = Writer(log)
    es.stop()
    try:
        first = Daemon(cfg, state, tmp_path / "ronda1.out").start()
        writer.write(300)
        wait_for(lambda: first.metric("ronda_received_total", component="es") >= 300, 30,
                 "the alerts reaching the responder")
        wait_for(lambda: first.metric("ronda_retries_total", component="es") >= 1, 30,
                 "a failed attempt")
        assert first.metric("ronda_spool_bytes", component="es") > 0
        code, took = first.stop()
        assert code == 0 and took < 10
        writer.write(100)  # while Ronda is down
        es.start()
        second = Daemon(cfg, state, tmp_path / "ronda2.out").start()
        writer.write(100)
        wait_for(lambda: stream_count(es, "restart") >= 500, 120, "500 documents")
        wait_for(lambda: second.metric("ronda_spool_bytes", component="es") == 0, 10,
                 "an empty spool")
        assert "left in the spool" in second.log()
        code, _ = second.stop()
        assert code == 0
    finally:
        if not es.running:
            es.start()
    assert_once_each(es, "restart", 500)
    client = es.client()
    mapping = next(iter(client.indices.get_mapping(index=alert_stream("restart")).body
                        .values()))["mappings"]
    assert field_type(mapping, "source.ip") == "ip"
    assert field_type(mapping, "ronda.count") == "long"


def test_the_benchmark_runs(es_server: EsServer) -> None:
    """bench/bench_es.py end to end on a small input (its figures come from a full run)."""
    import subprocess
    import sys

    from tests.integration.daemon import ROOT
    r = subprocess.run([sys.executable, "bench/bench_es.py", "--url", es_server.url,
                        "--alerts", "2000", "--single", "200", "--repeat", "1", "--json"],
                       cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    result = json.loads(r.stdout)
    assert result["alerts"] == 2000 and result["responder_alerts_per_s"] > 0
    assert result["single_alerts_per_s"] > 0 and result["ratio"] > 0
