"""The elasticsearch responder's less common paths: update races, 413, the dead-letter
file, settings errors, document ids and sampling, the spool record format."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from responders.deadletter import DeadLetter, DeadLetters
from responders.elasticsearch import ElasticsearchConfig, ElasticsearchResponder
from responders.esdocs import decode, encode, event_dataset, event_id, sampled
from ronda.clock import ManualClock
from ronda.daemon.registry import RESPONDERS
from ronda.schema import Event
from tests.responders.fake_es import FakeEs
from tests.responders.test_elasticsearch import STREAM, T0, drain, make, make_alert, metric


def test_registered_as_elasticsearch() -> None:
    assert RESPONDERS["elasticsearch"] is ElasticsearchResponder


def test_an_update_that_meets_a_concurrent_change_reads_again(tmp_path: Path) -> None:
    fake = FakeEs()
    r, _, mono = make(tmp_path, fake)
    r.handle([make_alert(1, count=1)])
    drain(r, mono)
    fake.changed_once.add(make_alert(1).id)
    r.handle([make_alert(1, count=6)])
    drain(r, mono)
    assert next(iter(fake.docs(STREAM).values()))["ronda"]["count"] == 6
    assert [p for _, p, _ in fake.requests].count("/_mget") == 2


def test_an_update_whose_document_vanished_writes_it_again(tmp_path: Path) -> None:
    fake = FakeEs()
    r, _, mono = make(tmp_path, fake)
    r.handle([make_alert(1, count=1)])
    drain(r, mono)
    fake.vanish.add(make_alert(1).id)  # deleted (retention) between the 409 and the read
    r.handle([make_alert(1, count=2)])
    drain(r, mono)
    (doc,) = fake.docs(STREAM).values()
    assert doc["ronda"]["count"] == 2


def test_request_too_large_halves_the_batch(tmp_path: Path) -> None:
    fake = FakeEs(request_statuses=[413])
    r, ctx, mono = make(tmp_path, fake)
    r.handle([make_alert(i) for i in range(4)])
    drain(r, mono)
    assert fake.bulk_calls() == [0, 2, 2]  # refused whole (413), then two halves
    assert len(fake.docs(STREAM)) == 4
    assert metric(ctx, "ronda_retries_total") == 0


def test_a_single_document_too_large_is_dead_lettered(tmp_path: Path) -> None:
    fake = FakeEs(request_statuses=[413])
    r, ctx, mono = make(tmp_path, fake)
    r.handle([make_alert(1)])
    drain(r, mono)
    entry = json.loads(r.dead_letter_path.read_text())
    assert entry["status"] == 413 and entry["error"]["reason"] == "fake 413"
    assert metric(ctx, "ronda_rejected_total") == 1 and r.spool.empty


def test_a_dead_letter_file_that_cannot_be_written_holds_the_stream(tmp_path: Path) -> None:
    fake = FakeEs()
    where = tmp_path / "dl"
    where.mkdir()  # a folder where the file should be: every write fails
    r, ctx, mono = make(tmp_path, fake, dead_letter=str(where))
    r.handle([make_alert(1, ip="not-an-ip"), make_alert(2)])
    assert r.tick() == 0.5
    assert not r.spool.empty and metric(ctx, "ronda_rejected_total") == 0
    where.rmdir()
    mono.t += 0.5
    drain(r, mono)
    assert r.spool.empty and where.is_file()
    assert metric(ctx, "ronda_rejected_total") == 1


def test_dead_letter_file_rotates(tmp_path: Path) -> None:
    path = tmp_path / "dl.jsonl"
    dl = DeadLetters(path, "es", ManualClock(T0), max_bytes=300)
    letter = DeadLetter("logs-ronda.alert-default", "id1", 400, "t", "r", b'{"a":' + b"1" * 200
                        + b"}")
    dl.write([letter])
    dl.write([letter])  # over max_bytes: the first file becomes .1
    assert len(path.read_text().splitlines()) == 1
    assert len((tmp_path / "dl.jsonl.1").read_text().splitlines()) == 1
    dl.write([DeadLetter("i", "x", 400, "t", "r", b"not json")])
    assert json.loads(path.read_text().splitlines()[-1])["document"] == "not json"


@pytest.mark.parametrize(("settings", "words"), [
    ({"spool": {"max_bytes": "16MiB", "segment_bytes": "16MiB"}}, "at least twice"),
    ({"spool": {"segment_bytes": 100}}, "at least 4KiB"),
    ({"spool": {"fsync": "sometimes"}}, "always"),
    ({"events": {"sample_rate": 0}}, "greater than 0"),
    ({"events": {"sample_rate": 1.5}}, "less than or equal to 1"),
    ({"retry_initial": "10s", "retry_max": "1s"}, "retry_max"),
    ({"batch_size": 0}, "greater than or equal to 1"),
    ({"namespace": "Big-Ns"}, "lower case"),
    ({"geoip": {"file": "x"}}, "database"),
    ({"unknown": 1}, "Extra inputs"),
])
def test_settings_errors(settings: dict[str, Any], words: str) -> None:
    with pytest.raises(ValidationError, match=words):
        ElasticsearchConfig.model_validate({"type": "elasticsearch",
                                            "hosts": ["http://127.0.0.1:9200"], **settings})


def test_settings_defaults() -> None:
    c = ElasticsearchConfig.model_validate({"type": "elasticsearch",
                                            "hosts": "http://127.0.0.1:9200"})
    assert (c.batch_size, c.flush_interval, c.setup, c.retry_initial, c.retry_max) == (
        500, 1.0, True, 0.5, 30.0)
    assert (c.spool.max_bytes, c.spool.segment_bytes, c.spool.fsync) == (
        1 << 30, 16 << 20, "batch")
    assert not c.events.enabled and c.geoip is None and c.overflow == "drop_oldest"
    assert c.dead_letter_path(Path("/s"), "es") == Path("/s/es/dead-letter.jsonl")
    assert c.model_copy(update={"dead_letter": "x/dl.jsonl"}).dead_letter_path(
        Path("/s"), "es") == Path("/s/x/dl.jsonl")


def test_an_unreadable_api_key_is_one_clear_line(tmp_path: Path) -> None:
    from ronda.errors import ConfigError
    from tests.responders.test_elasticsearch import make_ctx
    config = ElasticsearchConfig.model_validate({
        "type": "elasticsearch", "hosts": ["http://127.0.0.1:9200"],
        "api_key_file": str(tmp_path / "missing.key")})
    with pytest.raises(ConfigError, match=r"api_key_file .*missing\.key: cannot read it"):
        ElasticsearchResponder("es", config, make_ctx(tmp_path), background=False)


def test_event_ids_are_deterministic_and_use_the_file_offset() -> None:
    e = Event("nginx.access", T0, {"log.file.path": "/var/log/a", "log.offset": 10}, "GET /",
              "web")
    same = Event("nginx.access", T0, {"log.file.path": "/var/log/a", "log.offset": 10},
                 "GET /", "web")
    again_later = Event("nginx.access", T0, {"log.file.path": "/var/log/a", "log.offset": 99},
                        "GET /", "web")
    assert event_id(e, "gw") == event_id(same, "gw")
    assert event_id(e, "gw") != event_id(again_later, "gw")  # the same line twice: 2 docs
    assert event_id(e, "gw") != event_id(e, "other-sensor")
    assert len(event_id(e, "gw")) == 40


def test_sampling_is_stable_and_near_the_rate() -> None:
    ids = [event_id(Event("syslog", T0 + i, {}, f"m{i}", "s"), "gw") for i in range(4000)]
    kept = [i for i in ids if sampled(i, 0.25)]
    assert 800 < len(kept) < 1200
    assert kept == [i for i in ids if sampled(i, 0.25)]
    assert all(sampled(i, 1.0) for i in ids)
    assert set(kept) <= {i for i in ids if sampled(i, 0.5)}  # a higher rate keeps a superset


def test_event_dataset_names_are_safe_for_data_streams() -> None:
    assert event_dataset("nginx.access") == "ronda.nginx.access"
    assert event_dataset("My-App/Log 1") == "ronda.my_app_log_1"
    assert event_dataset("---") == "ronda.unknown"


def test_spool_record_round_trip_and_damage() -> None:
    payload = encode("a", "logs-ronda.alert-default", "ab12", b'{"x":"a\\tb"}', 3)
    doc = decode(payload)
    assert (doc.kind, doc.index, doc.doc_id, doc.count, doc.body) == (
        "a", "logs-ronda.alert-default", "ab12", 3, b'{"x":"a\\tb"}')
    assert json.loads(doc.action()) == {"create": {"_index": "logs-ronda.alert-default",
                                                   "_id": "ab12"}}
    for bad in (b"", b"a\t1\tidx\tid", b"x\t1\tidx\tid\t{}", b"a\tone\tidx\tid\t{}",
                b'a\t1\tidx"\tid\t{}', b"a\t1\tidx\tid\tnot json"):
        with pytest.raises(ValueError):
            decode(bad)


def test_logs_do_not_show_secrets(tmp_path: Path, caplog: Any) -> None:
    key = tmp_path / "es.key"
    key.write_text("c2VjcmV0LWtleS12YWx1ZQ==\n")
    config = ElasticsearchConfig.model_validate({
        "type": "elasticsearch", "hosts": ["http://127.0.0.1:9"], "api_key_file": str(key),
        "setup": False, "flush_interval": 0, "request_timeout": "1s"})
    from tests.responders.test_elasticsearch import make_ctx
    with caplog.at_level(logging.DEBUG):
        r = ElasticsearchResponder("es", config, make_ctx(tmp_path), background=False)
        r.handle([make_alert(1)])
        r.tick()  # nothing listens on port 9: a failed attempt, logged
        r.close()
    assert "unreachable" in caplog.text
    assert "c2VjcmV0" not in caplog.text


def test_parallel_requests_are_settled_in_order(tmp_path: Path) -> None:
    fake = FakeEs()
    r, ctx, mono = make(tmp_path, fake, batch_size=2, parallel_requests=3)
    alerts = [make_alert(i) for i in range(6)]
    fake.item_statuses[alerts[1].id] = [503]  # the first request fails at its 2nd document
    r.handle(alerts)
    assert r.tick() == 0.5
    assert sorted(fake.bulk_calls()) == [2, 2, 2]
    # only the document before the failure is acknowledged; the later requests' answers
    # are dropped, and their documents sent again (found there, no copies)
    assert metric(ctx, "ronda_emitted_total") == 1
    mono.t += 0.5
    drain(r, mono)
    assert sorted(fake.docs(STREAM)) == sorted(a.id for a in alerts)
    assert metric(ctx, "ronda_emitted_total") == 6
    r.close()


def test_a_partial_record_left_by_a_crash_is_cut_counted_and_the_rest_sent(
        tmp_path: Path, caplog: Any) -> None:
    fake = FakeEs(down=True)
    r, _, _ = make(tmp_path, fake)
    r.handle([make_alert(1), make_alert(2)])
    r.close()
    (seg,) = (tmp_path / "state" / "es" / "spool").glob("seg-*.log")
    with open(seg, "ab") as fh:
        fh.write(b"1700000000.000\ta\t1\tlogs-ronda.alert-default\tabc\t{\"half")
    fake.down = False
    with caplog.at_level(logging.INFO, logger="test.es"):
        again, ctx, mono = make(tmp_path, fake)
    assert "cut off 1 partial records" in caplog.text
    assert "left in the spool" in caplog.text
    assert metric(ctx, "ronda_dropped_total", reason="spool_corrupt") == 1
    drain(again, mono)
    assert len(fake.docs(STREAM)) == 2
    again.close()


def test_a_long_outage_is_logged_again_every_five_minutes(tmp_path: Path,
                                                          caplog: Any) -> None:
    fake = FakeEs(down=True)
    r, _, mono = make(tmp_path, fake)
    r.handle([make_alert(1)])
    with caplog.at_level(logging.WARNING, logger="test.es"):
        for _ in range(30):  # 0.5 + 1 + ... capped at 30 s: about 12 minutes
            delay = r.tick()
            assert delay is not None
            mono.t += delay
    lines = [rec.getMessage() for rec in caplog.records]
    assert sum("unreachable" in x for x in lines) == 1
    assert sum("still failing" in x for x in lines) == 2
