"""The ``json`` format."""

from __future__ import annotations

import json

import pytest

from ronda.clock import ManualClock
from sensor.parsers import make_parser

T0 = 1795230000.0  # 2026-11-21T10:00:00+07:00


def parse(line: str, now: float = 42.0) -> tuple[str, float, dict[str, object]]:
    e = make_parser("json", ManualClock(now))(line)
    assert e is not None, line
    assert e.message == line
    return e.dataset, e.timestamp, e.fields


def test_flatten_nested_and_dotted() -> None:
    ds, ts, f = parse('{"source": {"ip": "1.2.3.4", "geo": {"country_iso_code": "ID"}}, '
                      '"url.path": "/x", "tags": ["a", "b"], "n": null, "ok": true}')  # fmt: skip
    assert ds == "json"
    assert ts == 42.0
    assert f == {"source.ip": "1.2.3.4", "source.geo.country_iso_code": "ID", "url.path": "/x",
                 "tags": ["a", "b"], "n": None, "ok": True}  # fmt: skip


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("@timestamp", "2026-11-21T03:00:00Z", T0),
        ("@timestamp", "2026-11-21T03:00:00.500Z", T0 + 0.5),
        ("timestamp", "2026-11-21T10:00:00+07:00", T0),
        ("time", "2026-11-21 10:00:00+0700", T0),
        ("time", T0, T0),
        ("timestamp", T0 * 1000, T0),
        ("timestamp", int(T0 * 1_000_000), T0),
        ("time", str(T0), T0),
        ("time_local", "21/Nov/2026:10:00:00 +0700", T0),
        ("time_iso8601", "2026-11-21T10:00:00+07:00", T0),
        ("time", "yesterday", 42.0),
        ("time", True, 42.0),
    ],
)
def test_timestamps(key: str, value: object, expected: float) -> None:
    _, ts, f = parse(json.dumps({key: value, "x": 1}))
    assert ts == pytest.approx(expected)
    assert (key in f) == (expected == 42.0)


def test_dataset_from_event_dataset() -> None:
    ds, _, f = parse('{"event": {"dataset": "suricata.eve", "kind": "alert"}}')
    assert ds == "suricata.eve"
    assert f == {"event.kind": "alert"}
    ds, _, _ = parse('{"event.dataset": ""}')
    assert ds == "json"


def test_nginx_escape_json_keys() -> None:
    line = json.dumps({
        "time_local": "21/Nov/2026:10:00:00 +0700", "remote_addr": "203.0.113.7",
        "remote_user": "-", "request_method": "POST", "request_uri": "/wp-login.php?x=1",
        "status": "401", "body_bytes_sent": "512", "http_referer": "-",
        "http_user_agent": "python-requests/2.31", "host": "opd.example.go.id",
        "request_time": "0.042", "http_x_forwarded_for": "198.51.100.2, 10.0.0.1",
        "server_protocol": "HTTP/1.1", "custom": "kept",
    })  # fmt: skip
    _, ts, f = parse(line)
    assert ts == T0
    assert f == {
        "source.ip": "203.0.113.7", "source.address": "203.0.113.7",
        "http.request.method": "POST", "url.original": "/wp-login.php?x=1",
        "url.path": "/wp-login.php", "url.query": "x=1", "http.response.status_code": 401,
        "http.response.body.bytes": 512, "user_agent.original": "python-requests/2.31",
        "url.domain": "opd.example.go.id", "destination.domain": "opd.example.go.id",
        "event.duration": 42_000_000, "network.forwarded_ip": "198.51.100.2",
        "http.version": "1.1", "custom": "kept", "event.category": ["web"], "event.kind": "event",
        "event.outcome": "failure",
    }  # fmt: skip


def test_nginx_request_line_and_numbers() -> None:
    _, _, f = parse('{"request": "GET /a?b HTTP/1.0", "status": 200, "request_time": 1.5,'
                    ' "server_name": "_"}')  # fmt: skip
    assert f["http.request.method"] == "GET" and f["url.query"] == "b"
    assert f["http.version"] == "1.0" and f["http.response.status_code"] == 200
    assert f["event.duration"] == 1_500_000_000 and "url.domain" not in f
    assert f["event.outcome"] == "success"


@pytest.mark.parametrize(
    "line",
    ["", "not json", "[1, 2]", '"str"', "42", "null", '{"a": 1', '{"a": NaN}', '{"a": Infinity}',
     '{"a": 1}}', "{" * 5000, '{"a":' * 100_000 + "1" + "}" * 100_000,
     '{"a":' * 40 + "1" + "}" * 40, '{"n": ' + "9" * 5000 + "}", "\x00{}"],
)  # fmt: skip
def test_rejected(line: str) -> None:
    assert make_parser("json", ManualClock())(line) is None


def test_leading_whitespace_and_unicode() -> None:
    _, _, f = parse('  {"msg": "judi online slot gacor \u2728", "k\u00e9y": "v"}')
    assert f == {"msg": "judi online slot gacor \u2728", "k\u00e9y": "v"}
