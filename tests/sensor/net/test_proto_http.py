"""HTTP/1.x: request/response pairs, pipelining, bodies, and the same fields (and Sigma
web rules) as the nginx access log."""

from __future__ import annotations

import logging
from pathlib import Path

from detectors.sigma.detector import SigmaConfig, SigmaDetector
from ronda.clock import ManualClock, SystemClock
from ronda.component import Context
from ronda.metrics import Metrics
from sensor.parsers import make_parser
from tests.sensor.net.helpers import T0
from tests.sensor.net.test_proto_helpers import CLIENT, SERVER, errors, of, run, tcp_session

ROOT = Path(__file__).resolve().parents[3]
UA = "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0"


def _req(method: str, target: str, host: str = "dinas.example.go.id", extra: str = "",
         body: bytes = b"") -> bytes:
    head = f"{method} {target} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: {UA}\r\n{extra}"
    if body:
        head += f"Content-Length: {len(body)}\r\n"
    return head.encode() + b"\r\n" + body


def _resp(status: int, reason: str, body: bytes = b"", length: bool = True) -> bytes:
    head = f"HTTP/1.1 {status} {reason}\r\nServer: nginx\r\nContent-Type: text/html\r\n"
    if length:
        head += f"Content-Length: {len(body)}\r\n"
    return head.encode() + b"\r\n" + body


def test_pipelined_requests_bodies_and_404(tmp_path: Path) -> None:
    post_body = b"user=admin&pass=rahasia"
    page = b"<html>" + b"x" * 3000 + b"</html>"
    pk = tcp_session(51000, 80, [
        (True, _req("GET", "/", extra="Referer: http://portal.example.go.id/\r\n")
         + _req("GET", "/berita/2026?page=2&q=banjir")),  # pipelined in one segment
        (False, _resp(200, "OK", page)[:1000]),
        (False, _resp(200, "OK", page)[1000:] + _resp(404, "Not Found", b"missing")),
        (True, _req("POST", "/wp-login.php", body=post_body)[:40]),  # head split
        (True, _req("POST", "/wp-login.php", body=post_body)[40:]),
        (False, _resp(302, "Found", b"")),
        (True, _req("HEAD", "/favicon.ico", host="dinas.example.go.id:8080")),
        (False, _resp(200, "OK", b"", length=False)),
        (True, _req("GET", "/never-answered")),
    ])
    events, src = run(tmp_path, pk)
    http = of(events, "http")
    assert [(e.fields["http.request.method"], e.fields["url.original"],
             e.fields.get("http.response.status_code")) for e in http] == [
        ("GET", "/", 200), ("GET", "/berita/2026?page=2&q=banjir", 404),
        ("POST", "/wp-login.php", 302), ("HEAD", "/favicon.ico", 200),
        ("GET", "/never-answered", None)]
    first, second, post, head, lost = (e.fields for e in http)
    assert first["http.request.referrer"] == "http://portal.example.go.id/"
    assert first["user_agent.original"] == UA
    assert first["url.domain"] == "dinas.example.go.id" and first["http.version"] == "1.1"
    assert first["http.response.body.bytes"] == len(page)
    assert (first["source.ip"], first["destination.ip"], first["destination.port"]) == (
        CLIENT, SERVER, 80)
    assert first["network.protocol"] == "http" and first["event.outcome"] == "success"
    assert first["event.duration"] == 10_000_000  # request at +30 ms, response at +40 ms
    assert (second["url.path"], second["url.query"]) == ("/berita/2026", "page=2&q=banjir")
    assert second["event.outcome"] == "failure" and second["http.response.body.bytes"] == 7
    assert post["http.request.body.bytes"] == len(post_body)
    assert head["url.domain"] == "dinas.example.go.id"
    assert "event.outcome" not in lost and "http.response.status_code" not in lost
    flows = of(events, "network.flow")
    assert flows[0].fields["network.protocol"] == "http"
    assert errors(src) == {}


def test_garbage_after_detection_is_counted(tmp_path: Path) -> None:
    pk = tcp_session(51001, 8080, [
        (True, _req("GET", "/ok")),
        (False, b"HTTP/1.1 abc Broken\r\n\r\n"),
        (True, b"GET " + b"A" * 20_000),  # a head that never ends
    ])
    events, src = run(tmp_path, pk)
    http = of(events, "http")
    assert len(http) == 1 and "http.response.status_code" not in http[0].fields
    assert errors(src) == {"http_malformed": 2.0}


ATTACK = "/index.php?id=1%27%20UNION%20SELECT%20username,password%20FROM%20users--%20-"


def test_attack_request_matches_the_nginx_fields_and_fires_sigma(tmp_path: Path) -> None:
    pk = tcp_session(52000, 80, [
        (True, _req("GET", ATTACK, extra="Referer: http://x.example/\r\n")),
        (False, _resp(404, "Not Found", b"nope")),
    ])
    events, _ = run(tmp_path, pk)
    (net,) = of(events, "http")
    line = (f'{CLIENT} - - [01/Jan/2026:07:00:00 +0700] "GET {ATTACK} HTTP/1.1" 404 4 '
            f'"http://x.example/" "{UA}"')
    log = make_parser("nginx", SystemClock())(line)
    assert log is not None
    for name, value in log.fields.items():
        assert net.fields.get(name) == value, name
    ctx = Context(sensor="t", clock=ManualClock(T0), metrics=Metrics(),
                  state_dir=tmp_path / "state", log=logging.getLogger("test"),
                  base_dir=ROOT)
    det = SigmaDetector("sigma", SigmaConfig(type="sigma", rules=["rules/sigma"]), ctx)
    det.reload()
    alerts = det.process([net])
    assert "sqli" in {a.rule.category for a in alerts}
    assert det.process([log])  # the same rules fire on the access-log line
