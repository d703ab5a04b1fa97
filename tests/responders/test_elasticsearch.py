"""The elasticsearch responder against a fake server: spool, 409, 400 dead letters,
429/5xx/connection retries with backoff timing on a fake clock, updates, events."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Any

import pytest

from responders import essender
from responders.elasticsearch import ElasticsearchConfig, ElasticsearchResponder
from responders.esdocs import alert_stream, decode, event_id, event_stream
from responders.spool import SpoolFull
from ronda.clock import ManualClock
from ronda.component import Context
from ronda.metrics import Metrics
from ronda.schema import Alert, Event, RuleRef, Severity
from tests.responders.fake_es import FakeEs

T0 = 1_700_000_000.0
STREAM = alert_stream("default")


class Mono:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def make_alert(n: int = 0, *, count: int = 1, ip: str = "198.51.100.7",
               severity: Severity = Severity.HIGH) -> Alert:
    return Alert(rule=RuleRef(id="r-brute", name="Brute", ruleset="t", category="brute-force"),
                 severity=severity, message=f"alert {n}", first_seen=T0 + n,
                 last_seen=T0 + n + count, key=f"k{n}", count=count,
                 fields={"source.ip": ip}, sensor="gw-01", detector="thr")


def make_ctx(tmp_path: Path, clock: ManualClock | None = None) -> Context:
    return Context(sensor="gw-01", clock=clock or ManualClock(T0), metrics=Metrics(),
                   state_dir=tmp_path / "state", log=logging.getLogger("test.es"),
                   base_dir=tmp_path)


def make(tmp_path: Path, fake: FakeEs, ctx: Context | None = None, mono: Mono | None = None,
         **settings: Any) -> tuple[ElasticsearchResponder, Context, Mono]:
    ctx = ctx or make_ctx(tmp_path)
    mono = mono or Mono()
    body = {"type": "elasticsearch", "hosts": ["http://127.0.0.1:9200"], "setup": False,
            "flush_interval": 0, **settings}
    config = ElasticsearchConfig.model_validate(body)
    r = ElasticsearchResponder("es", config, ctx, client=fake.client(), background=False,
                               monotonic=mono)
    return r, ctx, mono


def drain(r: ElasticsearchResponder, mono: Mono, rounds: int = 100) -> None:
    for _ in range(rounds):
        wait = r.tick()
        if wait is None:
            return
        mono.t += wait
    raise AssertionError("the spool did not drain")


def metric(ctx: Context, name: str, **labels: str) -> float:
    return ctx.metrics.value(name, component="es", **labels)


def test_alerts_are_spooled_then_delivered_in_bulk(tmp_path: Path) -> None:
    fake = FakeEs()
    r, ctx, mono = make(tmp_path, fake)
    alerts = [make_alert(i) for i in range(5)]
    r.handle(alerts)
    assert fake.requests == []  # handle() only writes the spool
    assert metric(ctx, "ronda_spool_bytes") > 0
    drain(r, mono)
    docs = fake.docs(STREAM)
    assert sorted(docs) == sorted(a.id for a in alerts)
    assert docs[alerts[0].id]["event"]["id"] == alerts[0].id
    assert docs[alerts[0].id]["data_stream"] == {"type": "logs", "dataset": "ronda.alert",
                                                  "namespace": "default"}
    assert fake.bulk_calls() == [5]
    assert metric(ctx, "ronda_emitted_total") == 5
    assert metric(ctx, "ronda_spool_bytes") == 0
    assert metric(ctx, "ronda_spool_oldest_age_seconds") == 0
    assert r.spool.empty


def test_min_severity_filters(tmp_path: Path) -> None:
    fake = FakeEs()
    r, _, mono = make(tmp_path, fake, min_severity="high")
    r.handle([make_alert(1, severity=Severity.LOW), make_alert(2)])
    drain(r, mono)
    assert len(fake.docs(STREAM)) == 1


def test_a_document_already_there_is_not_an_error_and_not_duplicated(tmp_path: Path) -> None:
    fake = FakeEs()
    r, ctx, mono = make(tmp_path, fake)
    a = make_alert(1)
    r.handle([a])
    drain(r, mono)
    r.handle([a])  # e.g. re-raised after a crash, or a retry whose answer was lost
    drain(r, mono)
    assert list(fake.docs(STREAM)) == [a.id]
    assert metric(ctx, "ronda_emitted_total") == 2
    assert metric(ctx, "ronda_errors_total") == 0
    assert metric(ctx, "ronda_rejected_total") == 0


def test_an_update_replaces_the_document_and_a_stale_one_does_not(tmp_path: Path) -> None:
    fake = FakeEs()
    r, _, mono = make(tmp_path, fake)
    r.handle([make_alert(1, count=1)])
    drain(r, mono)
    r.handle([make_alert(1, count=7)])  # the aggregator's update at window close
    drain(r, mono)
    docs = fake.docs(STREAM)
    assert len(docs) == 1 and next(iter(docs.values()))["ronda"]["count"] == 7
    r.handle([make_alert(1, count=3)])  # older than what is stored: kept as it is
    drain(r, mono)
    assert next(iter(fake.docs(STREAM).values()))["ronda"]["count"] == 7


def test_first_write_and_updates_in_one_batch_leave_the_newest(tmp_path: Path) -> None:
    fake = FakeEs()
    r, ctx, mono = make(tmp_path, fake)
    r.handle([make_alert(1, count=1), make_alert(2), make_alert(1, count=4),
              make_alert(1, count=9)])
    drain(r, mono)
    docs = fake.docs(STREAM)
    assert len(docs) == 2
    assert docs[make_alert(1).id]["ronda"]["count"] == 9
    assert metric(ctx, "ronda_emitted_total") == 4


def test_a_malformed_document_goes_to_the_dead_letter_file_and_the_stream_goes_on(
        tmp_path: Path) -> None:
    fake = FakeEs()
    r, ctx, mono = make(tmp_path, fake)
    good1, bad, good2 = make_alert(1), make_alert(2, ip="not-an-ip"), make_alert(3)
    r.handle([good1, bad, good2])
    drain(r, mono)
    assert sorted(fake.docs(STREAM)) == sorted([good1.id, good2.id])
    lines = r.dead_letter_path.read_text().splitlines()
    assert r.dead_letter_path == tmp_path / "state" / "es" / "dead-letter.jsonl"
    (entry,) = [json.loads(x) for x in lines]
    assert entry["id"] == bad.id and entry["index"] == STREAM and entry["status"] == 400
    assert entry["error"]["type"] == "document_parsing_exception"
    assert "source.ip" in entry["error"]["reason"] and "not an IP" in entry["error"]["reason"]
    assert entry["document"]["source"]["ip"] == "not-an-ip"
    assert entry["responder"] == "es" and entry["@timestamp"].startswith("2023-11-14T22:13:20")
    assert metric(ctx, "ronda_rejected_total") == 1
    assert metric(ctx, "ronda_emitted_total") == 2
    assert r.spool.empty


def test_429_stops_at_the_document_and_retries_from_it_after_backoff(tmp_path: Path) -> None:
    fake = FakeEs()
    r, ctx, mono = make(tmp_path, fake)
    alerts = [make_alert(i) for i in range(4)]
    fake.item_statuses[alerts[2].id] = [429]
    r.handle(alerts)
    assert r.tick() == 0.5  # the first two are acknowledged, then back off 0.5 s
    # (the server took the fourth too; it is sent again and found there: no copy)
    assert alerts[2].id not in fake.docs(STREAM) and len(fake.docs(STREAM)) == 3
    assert metric(ctx, "ronda_retries_total") == 1
    mono.t += 0.4
    assert r.tick() == pytest.approx(0.1)  # still backing off: no request
    assert len(fake.bulk_calls()) == 1
    mono.t += 0.1
    assert r.tick() == 0.0
    assert fake.bulk_calls() == [4, 2]  # resumed from the refused document
    assert sorted(fake.docs(STREAM)) == sorted(a.id for a in alerts)
    assert metric(ctx, "ronda_emitted_total") == 4


def test_backoff_doubles_to_the_maximum_and_resets_after_success(tmp_path: Path) -> None:
    fake = FakeEs(down=True)
    r, ctx, mono = make(tmp_path, fake, retry_max="4s")
    r.handle([make_alert(1)])
    delays = []
    for _ in range(6):
        delay = r.tick()
        assert delay is not None
        delays.append(delay)
        mono.t += delay
    assert delays == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
    assert metric(ctx, "ronda_retries_total") == 6
    assert metric(ctx, "ronda_errors_total") == 6
    fake.down = False
    assert r.tick() == 0.0
    assert len(fake.docs(STREAM)) == 1
    fake.down = True
    r.handle([make_alert(2)])
    assert r.tick() == 0.5  # a new outage starts from the initial delay


def test_unreachable_server_keeps_alerts_spooled_with_their_age(tmp_path: Path,
                                                               caplog: Any) -> None:
    fake = FakeEs(down=True)
    clock = ManualClock(T0)
    r, ctx, mono = make(tmp_path, fake, ctx=make_ctx(tmp_path, clock))
    r.handle([make_alert(i) for i in range(3)])
    clock.advance(30)
    r.handle([make_alert(i) for i in range(3, 5)])
    clock.advance(12)
    with caplog.at_level(logging.INFO, logger="test.es"):
        r.tick()
        assert "unreachable" in caplog.text and "retrying in 0.5s" in caplog.text
        assert metric(ctx, "ronda_spool_oldest_age_seconds") == 42
        assert metric(ctx, "ronda_spool_bytes") > 0
        fake.down = False
        mono.t += 0.5
        drain(r, mono)
        assert "takes documents again after 1 failed attempts" in caplog.text
    stored = fake.docs(STREAM)
    assert len(stored) == 5
    assert metric(ctx, "ronda_spool_oldest_age_seconds") == 0


@pytest.mark.parametrize(("status", "word"), [(503, "unreachable"), (401, "credentials")])
def test_whole_request_failures_are_retried(tmp_path: Path, caplog: Any, status: int,
                                            word: str) -> None:
    fake = FakeEs(request_statuses=[status, status])
    r, ctx, mono = make(tmp_path, fake)
    r.handle([make_alert(1), make_alert(2)])
    with caplog.at_level(logging.INFO, logger="test.es"):
        drain(r, mono)
    assert word in caplog.text
    assert len(fake.docs(STREAM)) == 2
    assert metric(ctx, "ronda_retries_total") == 2
    assert metric(ctx, "ronda_rejected_total") == 0


def test_order_is_kept_across_an_outage(tmp_path: Path) -> None:
    fake = FakeEs()
    r, _, mono = make(tmp_path, fake, batch_size=3)
    r.handle([make_alert(i) for i in range(4)])
    fake.down = True
    r.tick()
    fake.down = False
    mono.t += 10
    r.handle([make_alert(i) for i in range(4, 8)])
    drain(r, mono)
    sent = [n for n in fake.bulk_calls()]
    assert sent == [3, 3, 2]
    assert [d["message"] for d in fake.docs(STREAM).values()] == [f"alert {i}"
                                                                  for i in range(8)]


def test_the_spool_survives_a_restart(tmp_path: Path) -> None:
    fake = FakeEs(down=True)
    r, _ctx, _mono = make(tmp_path, fake)
    alerts = [make_alert(i) for i in range(6)]
    r.handle(alerts)
    r.tick()
    r.flush()
    r.close()
    fake.down = False
    again, ctx2, mono2 = make(tmp_path, fake)
    drain(again, mono2)
    assert sorted(fake.docs(STREAM)) == sorted(a.id for a in alerts)
    assert metric(ctx2, "ronda_emitted_total") == 6
    again.close()


def test_full_spool_raises_and_says_so_once(tmp_path: Path, caplog: Any) -> None:
    fake = FakeEs(down=True)
    r, _, _ = make(tmp_path, fake, spool={"max_bytes": "8KiB", "segment_bytes": "4KiB"})
    with caplog.at_level(logging.ERROR, logger="test.es"):
        with pytest.raises(SpoolFull):
            for i in range(100):
                r.handle([make_alert(i)])
        with pytest.raises(SpoolFull):
            r.handle([make_alert(1000)])
    assert caplog.text.count("is full") == 1


def test_setup_runs_before_the_first_delivery_and_waits_for_the_server(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeEs()
    calls: list[str] = []

    def ensure_setup(client: Any, log: logging.Logger) -> list[Any]:
        calls.append("setup")
        if fake.down:
            from elastic_transport import ConnectionError as TransportConnectionError
            raise TransportConnectionError("refused")
        return []

    monkeypatch.setattr(essender, "ensure_setup", ensure_setup)
    fake.down = True
    r, _ctx, mono = make(tmp_path, fake, setup=True)
    r.handle([make_alert(1)])
    assert r.tick() == 0.5
    assert calls == ["setup"] and fake.requests == []  # nothing sent before the templates
    fake.down = False
    mono.t += 0.5
    drain(r, mono)
    assert calls == ["setup", "setup"]
    assert len(fake.docs(STREAM)) == 1
    r.handle([make_alert(2)])
    drain(r, mono)
    assert calls == ["setup", "setup"]  # once per start


def test_a_small_batch_waits_for_flush_interval(tmp_path: Path) -> None:
    fake = FakeEs()
    r, _, mono = make(tmp_path, fake, flush_interval="1s", batch_size=4)
    r.handle([make_alert(1)])
    assert r.tick() == 1.0
    mono.t += 0.6
    assert r.tick() == pytest.approx(0.4)
    assert fake.requests == []
    mono.t += 0.4
    assert r.tick() == 0.0 and fake.bulk_calls() == [1]
    r.handle([make_alert(i) for i in range(2, 6)])  # a full batch goes at once
    assert r.tick() == 0.0 and fake.bulk_calls() == [1, 4]


def test_unreadable_spool_records_are_skipped_and_counted(tmp_path: Path) -> None:
    fake = FakeEs()
    r, ctx, mono = make(tmp_path, fake)
    r.spool.append([b'{"k":"a"}\tnot json', b"no tab at all"])
    r.handle([make_alert(1)])
    drain(r, mono)
    assert len(fake.docs(STREAM)) == 1
    assert metric(ctx, "ronda_dropped_total", reason="spool_corrupt") == 2


def test_events_are_sampled_filtered_and_written_once(tmp_path: Path) -> None:
    fake = FakeEs()
    r, _ctx, mono = make(tmp_path, fake, events={"enabled": True, "datasets": ["nginx.*"],
                                                "sample_rate": 0.5})
    assert r.wants_events
    events = [Event("nginx.access", T0 + i, {"source.ip": "198.51.100.9", "log.offset": i},
                    f"line {i}", "web") for i in range(200)]
    events.append(Event("sshd.auth", T0, {}, "sshd line", "auth"))
    r.handle_events(events)
    r.handle_events(events)  # read twice (a restart after a crash): still one copy each
    drain(r, mono)
    docs = fake.docs(event_stream("nginx.access", "default"))
    assert 60 < len(docs) < 140  # about half
    kept = {event_id(e, "gw-01") for e in events[:200]}
    assert set(docs) <= kept
    doc = next(iter(docs.values()))
    assert doc["event"]["dataset"] == "nginx.access" and doc["observer"]["name"] == "gw-01"
    assert doc["data_stream"]["dataset"] == "ronda.nginx.access"
    assert fake.docs(event_stream("sshd.auth", "default")) == {}
    assert event_stream("nginx.access", "ns1") == "logs-ronda.nginx.access-ns1"


def test_events_are_off_by_default(tmp_path: Path) -> None:
    r, _, _ = make(tmp_path, FakeEs())
    assert not r.wants_events
    r.handle_events([Event("nginx.access", T0, {}, "x", "web")])
    assert r.spool.empty


def test_spool_records_carry_index_id_and_count(tmp_path: Path) -> None:
    r, _, _ = make(tmp_path, FakeEs(), namespace="kominfo")
    a = make_alert(3, count=4)
    r.handle([a])
    (record,) = r.spool.read(10)
    doc = decode(record.payload)
    assert (doc.kind, doc.index, doc.doc_id, doc.count) == ("a", "logs-ronda.alert-kominfo",
                                                            a.id, 4)
    assert json.loads(doc.body)["ronda"]["count"] == 4


def test_background_sender_delivers_and_close_drains(tmp_path: Path) -> None:
    fake = FakeEs()
    ctx = make_ctx(tmp_path)
    config = ElasticsearchConfig.model_validate({
        "type": "elasticsearch", "hosts": ["http://127.0.0.1:9200"], "setup": False,
        "flush_interval": "10s", "batch_size": 1000})
    r = ElasticsearchResponder("es", config, ctx, client=fake.client())
    r.handle([make_alert(i) for i in range(3)])
    time.sleep(0.2)
    assert fake.docs(STREAM) == {}  # waiting for a fuller batch
    r.close()  # drains what is pending
    assert len(fake.docs(STREAM)) == 3


def test_close_while_unreachable_returns_at_once_and_keeps_the_spool(tmp_path: Path) -> None:
    fake = FakeEs(down=True)
    ctx = make_ctx(tmp_path)
    config = ElasticsearchConfig.model_validate({
        "type": "elasticsearch", "hosts": ["http://127.0.0.1:9200"], "setup": False,
        "flush_interval": 0})
    r = ElasticsearchResponder("es", config, ctx, client=fake.client())
    r.handle([make_alert(1)])
    deadline = time.monotonic() + 5
    while metric(ctx, "ronda_retries_total") == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    t0 = time.monotonic()
    r.close()
    assert time.monotonic() - t0 < 1.5
    assert not r.spool.empty
