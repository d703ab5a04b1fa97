"""nginx / apache access-log parsing."""

from __future__ import annotations

import calendar

import pytest

from ronda.clock import ManualClock
from sensor.parsers import FORMATS, make_parser

T0 = calendar.timegm((2026, 11, 21, 3, 0, 0)) * 1.0  # 21/Nov/2026:10:00:00 +0700
UA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36"


def nginx(line: str) -> dict[str, object]:
    event = make_parser("nginx", ManualClock(T0))(line)
    assert event is not None, line
    assert event.dataset == "nginx.access"
    assert event.message == line
    assert event.source == ""
    return event.fields


def apache(line: str) -> dict[str, object]:
    event = make_parser("apache", ManualClock(T0))(line)
    assert event is not None, line
    assert event.dataset == "apache.access"
    return event.fields


def test_formats_and_unknown_format() -> None:
    assert FORMATS == ("nginx", "apache", "sshd", "syslog", "json")
    with pytest.raises(ValueError, match=r"unknown format 'iis' \(expected one of nginx, apache, "
                                         r"sshd, syslog, json\)"):  # fmt: skip
        make_parser("iis", ManualClock())


def test_nginx_combined() -> None:
    line = (
        f'203.0.113.7 - - [21/Nov/2026:10:00:00 +0700] "GET /wp-login.php?redirect_to=%2F HTTP/1.1"'
        f' 200 4523 "https://diskominfo.example.go.id/" "{UA}"'
    )
    event = make_parser("nginx", ManualClock())(line)
    assert event is not None
    assert event.timestamp == T0
    assert event.fields == {
        "source.ip": "203.0.113.7",
        "source.address": "203.0.113.7",
        "http.request.method": "GET",
        "url.original": "/wp-login.php?redirect_to=%2F",
        "url.path": "/wp-login.php",
        "url.query": "redirect_to=%2F",
        "http.version": "1.1",
        "http.response.status_code": 200,
        "http.response.body.bytes": 4523,
        "http.request.referrer": "https://diskominfo.example.go.id/",
        "user_agent.original": UA,
        "event.category": ["web"],
        "event.kind": "event",
        "event.outcome": "success",
    }


def test_common_log_format_with_user_and_dash_bytes() -> None:
    f = apache('198.51.100.4 - budi [21/Nov/2026:10:00:00 +0700] "POST /login HTTP/1.0" 401 -')
    assert f["user.name"] == "budi"
    assert f["http.response.body.bytes"] == 0
    assert f["event.outcome"] == "failure"
    assert f["http.version"] == "1.0"
    assert "url.query" not in f
    assert "http.request.referrer" not in f
    assert "user_agent.original" not in f


def test_dash_referrer_and_agent_are_absent() -> None:
    f = nginx('1.2.3.4 - - [21/Nov/2026:10:00:00 +0700] "GET / HTTP/2.0" 304 0 "-" "-"')
    assert "http.request.referrer" not in f
    assert "user_agent.original" not in f
    assert "user.name" not in f
    assert f["http.version"] == "2.0"
    assert f["event.outcome"] == "success"


def test_timezone_offsets() -> None:
    p = make_parser("nginx", ManualClock())
    west = p('1.2.3.4 - - [01/Jan/2026:00:30:00 -0530] "GET / HTTP/1.1" 200 1')
    utc = p('1.2.3.4 - - [01/Jan/2026:06:00:00 +0000] "GET / HTTP/1.1" 200 1')
    assert west is not None and utc is not None
    assert west.timestamp == utc.timestamp == calendar.timegm((2026, 1, 1, 6, 0, 0))


def test_nginx_main_with_forwarded_for_and_request_time() -> None:
    f = nginx(
        '10.0.0.9 - - [21/Nov/2026:10:00:00 +0700] "GET /a HTTP/1.1" 502 157 "-" "curl/8.5" '
        '"203.0.113.50, 10.0.0.1" 0.123'
    )
    assert f["network.forwarded_ip"] == "203.0.113.50"
    assert f["event.duration"] == 123_000_000
    assert f["event.outcome"] == "failure"


def test_forwarded_for_dash_and_key_value_request_time() -> None:
    f = nginx(
        '10.0.0.9 - - [21/Nov/2026:10:00:00 +0700] "GET /a HTTP/1.1" 200 1 "-" "curl" "-" '
        'rt=0.250 uct="0.000" uht="0.001" urt="0.002"'
    )
    assert "network.forwarded_ip" not in f
    assert f["event.duration"] == 250_000_000


def test_apache_microseconds_and_seconds() -> None:
    base = '1.2.3.4 - - [21/Nov/2026:10:00:00 +0700] "GET / HTTP/1.1" 200 1 "-" "x"'
    assert apache(base + " 15320")["event.duration"] == 15_320_000
    assert apache(base + " 0/15320")["event.duration"] == 15_320_000
    assert apache(base + " 1.5")["event.duration"] == 1_500_000_000
    # nginx never writes a bare integer request time: it is not read as one.
    assert "event.duration" not in nginx(base + " 15320")


def test_apache_vhost_combined() -> None:
    f = apache(
        'www.bappeda.example.go.id:443 203.0.113.7 - - [21/Nov/2026:10:00:00 +0700] '
        '"GET /index.php?id=1%27 HTTP/1.1" 200 512 "-" "sqlmap/1.7"'
    )
    assert f["url.domain"] == "www.bappeda.example.go.id"
    assert f["destination.domain"] == "www.bappeda.example.go.id"
    assert f["destination.port"] == 443
    assert f["source.ip"] == "203.0.113.7"
    assert f["url.query"] == "id=1%27"
    assert f["user_agent.original"] == "sqlmap/1.7"


def test_host_then_ip_prefix() -> None:
    f = nginx(
        'dinkes.example.go.id 2001:db8::7 - - [21/Nov/2026:10:00:00 +0700] '
        '"HEAD / HTTP/1.1" 200 0 "-" "-"'
    )
    assert f["url.domain"] == "dinkes.example.go.id"
    assert "destination.port" not in f
    assert f["source.ip"] == "2001:db8::7"
    assert f["http.request.method"] == "HEAD"


def test_client_with_port_and_hostname_client() -> None:
    f = nginx('192.0.2.1:51234 - - [21/Nov/2026:10:00:00 +0700] "GET / HTTP/1.1" 200 1')
    assert f["source.ip"] == "192.0.2.1"
    assert f["source.port"] == 51234
    f = nginx('[2001:db8::1]:443 - - [21/Nov/2026:10:00:00 +0700] "GET / HTTP/1.1" 200 1')
    assert f["source.ip"] == "2001:db8::1"
    assert f["source.port"] == 443
    f = apache('crawler.example.com - - [21/Nov/2026:10:00:00 +0700] "GET / HTTP/1.1" 200 1')
    assert "source.ip" not in f
    assert f["source.address"] == "crawler.example.com"
    assert f["source.domain"] == "crawler.example.com"


def test_escaped_quotes_in_request_and_agent() -> None:
    f = apache(
        r'1.2.3.4 - - [21/Nov/2026:10:00:00 +0700] "GET /search?q=\"><script>alert(1)</script>'
        r' HTTP/1.1" 200 10 "-" "Mozilla \"evil\" agent"'
    )
    assert f["url.original"] == '/search?q="><script>alert(1)</script>'
    assert f["url.query"] == 'q="><script>alert(1)</script>'
    assert f["user_agent.original"] == 'Mozilla "evil" agent'


def test_tls_garbage_request_still_parses() -> None:
    line = (
        r'45.148.10.1 - - [21/Nov/2026:10:00:00 +0700] "\x16\x03\x01\x02\x00\x01\x00\x01\xFC\x03'
        r'\x03" 400 157 "-" "-"'
    )
    f = nginx(line)
    assert f["url.original"] == r"\x16\x03\x01\x02\x00\x01\x00\x01\xFC\x03\x03"
    assert "http.request.method" not in f
    assert "url.path" not in f
    assert f["http.response.status_code"] == 400
    assert f["event.outcome"] == "failure"


def test_empty_and_dash_request() -> None:
    f = nginx('1.2.3.4 - - [21/Nov/2026:10:00:00 +0700] "-" 408 0 "-" "-"')
    assert "url.original" not in f and "http.request.method" not in f
    f = nginx('1.2.3.4 - - [21/Nov/2026:10:00:00 +0700] "" 400 0 "-" "-"')
    assert "url.original" not in f


def test_request_with_spaces_is_kept_raw() -> None:
    f = nginx('1.2.3.4 - - [21/Nov/2026:10:00:00 +0700] "GET /a b c HTTP/1.1" 400 0 "-" "-"')
    assert f["url.original"] == "GET /a b c HTTP/1.1"
    assert "http.request.method" not in f


def test_http09_request_and_absolute_uri() -> None:
    f = nginx('1.2.3.4 - - [21/Nov/2026:10:00:00 +0700] "GET /" 200 0')
    assert f["http.request.method"] == "GET"
    assert f["url.path"] == "/"
    assert "http.version" not in f
    f = nginx('1.2.3.4 - - [21/Nov/2026:10:00:00 +0700] "CONNECT example.com:443 HTTP/1.1" 400 0')
    assert f["http.request.method"] == "CONNECT"
    assert f["url.original"] == "example.com:443"


@pytest.mark.parametrize(
    "line",
    [
        "",
        "hello world",
        '1.2.3.4 - - [21/Nov/2026:10:00:00] "GET / HTTP/1.1" 200 1',  # no zone
        '1.2.3.4 - - [32/Nov/2026:10:00:00 +0700] "GET / HTTP/1.1" 200 1',  # bad day
        '1.2.3.4 - - [21/Foo/2026:10:00:00 +0700] "GET / HTTP/1.1" 200 1',  # bad month
        '1.2.3.4 - - [21/Nov/2026:25:00:00 +0700] "GET / HTTP/1.1" 200 1',  # bad hour
        '1.2.3.4 - - [21/Nov/2026:10:00:00 +0700] "GET / HTTP/1.1" 2000 1',  # bad status
        '1.2.3.4 - - [21/Nov/2026:10:00:00 +0700] "GET / HTTP/1.1 200 1',  # unterminated
        "2026/11/21 10:00:00 [error] 1234#1234: *1 open() failed (2: No such file)",
        '{"remote_addr":"1.2.3.4"}',
    ],
)
def test_non_access_lines_are_none(line: str) -> None:
    assert make_parser("nginx", ManualClock())(line) is None
    assert make_parser("apache", ManualClock())(line) is None


def test_timestamp_cache_is_per_line_correct() -> None:
    p = make_parser("nginx", ManualClock())
    stamps = []
    for sec in (0, 0, 1, 59, 0):
        e = p(f'1.2.3.4 - - [21/Nov/2026:10:00:{sec:02d} +0700] "GET / HTTP/1.1" 200 1')
        assert e is not None
        stamps.append(e.timestamp - T0)
    assert stamps == [0, 0, 1, 59, 0]
