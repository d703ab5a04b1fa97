"""`ronda es setup|check` and Ronda's templates against a real Elasticsearch (the
integ-test distribution: no ILM, no ingest pipelines, no data-streams APIs).

The tests that make data streams come last: that server cannot delete a data stream, so
the ``es`` fixture restarts it on an empty data directory after each of them."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from elasticsearch import Elasticsearch

from responders.esconn import EsConnection, make_client
from responders.essetup import ensure_setup
from ronda.clock import ManualClock
from ronda.component import Context
from ronda.metrics import Metrics
from tests.integration.daemon import free_port, ronda
from tests.integration.esserver import EsServer
from tests.responders.test_essetup import T0, rich_alert

ALERTS = "logs-ronda.alert-default"
NGINX = "logs-ronda.nginx.access-default"
MALFORMED = "logs-ronda.alert-malformed"
LOG = logging.getLogger("test.es_setup")


def setup_lines(url: str, *extra: str) -> list[str]:
    r = ronda("es", "setup", "--hosts", url, *extra)
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""
    return r.stdout.splitlines()


def client_for(es: EsServer, tmp: Path) -> Elasticsearch:
    ctx = Context(sensor="t", clock=ManualClock(T0), metrics=Metrics(), state_dir=tmp,
                  log=LOG, base_dir=tmp)
    return make_client(EsConnection(hosts=[es.url]), ctx)


def field(mapping: dict[str, object], dotted: str) -> dict[str, object]:
    node: object = mapping
    for part in dotted.split(".") if not dotted.startswith("@") else [dotted]:
        assert isinstance(node, dict)
        node = node["properties"][part]
    assert isinstance(node, dict)
    return node


def test_setup_twice_is_idempotent(es: EsServer) -> None:
    first = setup_lines(es.url)
    assert first[0] == f"elasticsearch {es.url}: Elasticsearch 8.19.21"
    assert first[1:] == [
        "ILM policy ronda-alert: skipped (no ILM)",
        "ILM policy ronda-event: skipped (no ILM)",
        "component template ronda-alert@mappings: created",
        "component template ronda-alert@settings: created",
        "component template ronda-ecs-base@mappings: created",
        "component template ronda-event@settings: created",
        "index template ronda-alert: created",
        "index template ronda-event: created",
    ]
    second = setup_lines(es.url)
    assert [line.rsplit(": ", 1)[1] for line in second[3:]] == ["unchanged"] * 6
    # a template changed on the server is put back, and only that one
    es.client().cluster.put_component_template(
        name="ronda-alert@mappings", template={"mappings": {"properties": {}}})
    third = setup_lines(es.url)
    assert "component template ronda-alert@mappings: updated" in third
    assert sum(line.endswith(": unchanged") for line in third) == 5


def test_unreachable_is_one_line_exit_1() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    for action in ("setup", "check"):
        r = ronda("es", action, "--hosts", url)
        assert r.returncode == 1
        assert r.stdout == ""
        assert r.stderr == f"elasticsearch {url}: cannot connect (Connection refused)\n"


def test_bad_usage_is_exit_2() -> None:
    r = ronda("es", "setup", "--hosts", "http://127.0.0.1")
    assert (r.returncode, r.stderr) == (
        2, "--hosts: URL 'http://127.0.0.1' has no port (e.g. http://127.0.0.1:9200)\n")
    r = ronda("es", "check", "--hosts", "http://127.0.0.1:9200", "--namespace", "Kab-Bogor")
    assert (r.returncode, r.stderr) == (2, "--namespace: namespace 'Kab-Bogor' must be "
                                           "lower case\n")


def test_connection_from_the_config(es: EsServer, tmp_path: Path) -> None:
    key = tmp_path / "es.key"
    key.write_text("c2VjcmV0LWtleQ==\n")  # security is off: the header is ignored
    cfg = tmp_path / "ronda.yaml"
    cfg.write_text(f"""
responders:
  store: {{type: jsonl, path: alerts.jsonl}}
  archive:
    type: elasticsearch
    hosts: [{es.url}]
    api_key_file: es.key          # relative to this file
    namespace: kab_bogor
""")
    r = ronda("es", "setup", "-c", str(cfg))
    assert r.returncode == 0, r.stderr
    assert "index template ronda-alert: created" in r.stdout
    r = ronda("es", "check", "-c", str(cfg), "--responder", "archive")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "data stream logs-ronda.alert-kab_bogor: not created yet" in r.stdout

    r = ronda("es", "check", "-c", str(cfg), "--responder", "store")
    assert r.returncode == 2
    assert r.stderr.endswith("no responder 'store' of type elasticsearch (there: archive)\n")
    cfg.write_text(cfg.read_text().replace("api_key_file: es.key", "api_key_env: NOPE_UNSET"))
    env = {k: v for k, v in os.environ.items() if k != "NOPE_UNSET"}
    r = ronda("es", "setup", "-c", str(cfg), env=env)
    assert (r.returncode, r.stderr) == (
        2, "api_key_env: environment variable NOPE_UNSET is not set or empty\n")
    cfg.write_text(cfg.read_text().replace("namespace: kab_bogor", "namespace: Kab-Bogor"))
    r = ronda("es", "setup", "-c", str(cfg))
    assert r.returncode == 2
    assert "responders.archive.namespace: namespace 'Kab-Bogor' must be lower case" in r.stderr


def test_restart_keeps_port_and_data(es: EsServer) -> None:
    c = es.client()
    c.indices.create(index="keepme")
    c.index(index="keepme", id="1", document={"a": 1}, refresh=True)
    url = es.url
    es.stop()
    assert not es.running
    es.start()
    assert es.url == url
    assert es.client().count(index="keepme")["count"] == 1
    LOG.warning("Elasticsearch restart took %.1f s", es.last_start_seconds)
def test_check_before_and_after_setup(es: EsServer, tmp_path: Path) -> None:
    r = ronda("es", "check", "--hosts", es.url)
    assert r.returncode == 1, r.stdout + r.stderr
    assert f"elasticsearch {es.url}: reachable, Elasticsearch 8.19.21, cluster health" in r.stdout
    assert "index template ronda-alert: missing" in r.stdout
    assert "problem: index template ronda-alert is missing" in r.stdout
    assert "ronda es setup" in r.stdout.splitlines()[-1]

    setup_lines(es.url)
    r = ronda("es", "check", "--hosts", es.url)
    assert r.returncode == 0, r.stdout + r.stderr
    lines = r.stdout.splitlines()
    assert "ILM: not used (no ILM; templates carry no lifecycle)" in lines
    assert "index template ronda-alert: ok" in lines
    assert f"data stream {ALERTS}: not created yet (made by the first alert)" in lines
    assert lines[-1] == "OK"

    client_for(es, tmp_path).create(index=ALERTS, id=rich_alert().id,
                                    document=rich_alert().to_ecs(), refresh=True)
    r = ronda("es", "check", "--hosts", es.url)
    assert f"data stream {ALERTS}: 1 document" in r.stdout.splitlines()
    # a namespace without alerts yet
    r = ronda("es", "check", "--hosts", es.url, "--namespace", "kab_bogor")
    assert "data stream logs-ronda.alert-kab_bogor: not created yet" in r.stdout

    # another template that would win over Ronda's for the alert stream is a problem
    es.client().indices.put_index_template(name="greedy", index_patterns=["logs-*"],
                                           priority=500, data_stream={})
    r = ronda("es", "check", "--hosts", es.url)
    assert r.returncode == 1
    assert (f"problem: {ALERTS} would use index template greedy, not ronda-alert"
            in r.stdout)


def test_streams_are_made_on_first_write_with_the_template_mappings(
        es: EsServer, tmp_path: Path) -> None:
    client = client_for(es, tmp_path)
    results = ensure_setup(client, LOG)
    assert {r.status for r in results} == {"created", "skipped"}
    alert = rich_alert()
    doc = alert.to_ecs()
    doc["data_stream"] = {"type": "logs", "dataset": "ronda.alert", "namespace": "default"}
    r = client.create(index=ALERTS, id=alert.id, document=doc, refresh=True)
    assert r["result"] == "created"
    assert r["_index"].startswith(f".ds-{ALERTS}-")
    event_doc = {
        "@timestamp": "2026-11-20T02:00:00.000Z", "event": {"dataset": "nginx.access"},
        "source": {"ip": "203.0.113.45"}, "url": {"original": "/wp-login.php"},
        "http": {"response": {"status_code": 404}}, "ronda": {"ssh": {"reason": "x"}},
    }
    client.create(index=NGINX, id="e1", document=event_doc, refresh=True)
    resolved = client.indices.resolve_index(name="logs-ronda.*").body
    assert {d["name"] for d in resolved["data_streams"]} == {ALERTS, NGINX}

    mapping = next(iter(client.indices.get_mapping(index=ALERTS).body.values()))["mappings"]
    expected = {
        "@timestamp": "date", "event.severity": "long", "event.risk_score": "float",
        "event.start": "date", "event.id": "keyword", "source.ip": "ip", "source.port": "long",
        "source.geo.location": "geo_point", "destination.ip": "ip", "url.original": "keyword",
        "http.response.status_code": "long", "user_agent.original": "keyword",
        "message": "text", "rule.id": "keyword", "threat.technique.id": "keyword",
        "ronda.count": "long", "ronda.first_seen": "date", "ronda.evidence": "text",
        "ronda.severity": "keyword", "observer.version": "keyword", "host.ip": "ip",
        "network.forwarded_ip": "ip", "event.original_category": "keyword",
        "data_stream.dataset": "keyword",
    }
    assert {name: field(mapping, name)["type"] for name in expected} == expected
    assert field(mapping, "url.original")["fields"] == {"text": {"type": "text"}}

    events = next(iter(client.indices.get_mapping(index=NGINX).body.values()))["mappings"]
    assert field(events, "source.ip")["type"] == "ip"
    assert field(events, "ronda.ssh.reason")["type"] == "keyword"  # dynamic: keyword
    ronda = field(events, "ronda")["properties"]
    assert "count" not in ronda and "evidence" not in ronda  # the event template: no alert part
    assert ronda["source"] == {"type": "keyword", "ignore_above": 1024}
    assert ronda["flow"]["properties"]["state"]["type"] == "keyword"  # network.flow events
    assert ronda["ssh"]["properties"]["invalid_user"] == {"type": "boolean"}

    got = client.search(index=ALERTS, query={"term": {"source.ip": "203.0.113.0/24"}})
    assert got["hits"]["total"]["value"] == 1
    got = client.search(index=ALERTS, query={"match": {"user_agent.original.text": "sqlmap"}})
    assert got["hits"]["total"]["value"] == 1
    got = client.search(index=ALERTS, query={"match": {"ronda.evidence": "union"}})
    assert got["hits"]["total"]["value"] == 1

    # a value that does not fit its field is left out of the index, not the alert lost
    doc = rich_alert().to_ecs()
    doc["source"]["ip"] = "not-an-ip"
    doc["destination"]["port"] = "https"
    r = client.create(index=MALFORMED, id="x1", document=doc, refresh=True)
    assert r["result"] == "created"
    assert client.get(index=r["_index"], id="x1")["_source"]["source"]["ip"] == "not-an-ip"
    for name in ("source.ip", "destination.port"):  # kept in _source, left out of the index
        got = client.search(index=MALFORMED, query={"term": {"_ignored": name}})
        assert got["hits"]["total"]["value"] == 1
