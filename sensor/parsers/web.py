"""Web server access logs: NCSA common / combined, vhost-prefixed variants, trailing extras.

Accepted shapes (``nginx`` and ``apache`` parse the same shapes; only the dataset and
the reading of a bare integer extra differ)::

    1.2.3.4 - bob [21/Nov/2026:10:00:00 +0700] "GET /a?b=1 HTTP/1.1" 200 512
    ... 200 512 "https://ref/" "Mozilla/5.0"                        combined
    ... "Mozilla/5.0" "203.0.113.9, 10.0.0.1" 0.123                 nginx main + $request_time
    ... "Mozilla/5.0" rt=0.123 uct="0.000"                          key=value extras
    ... "Mozilla/5.0" 12345                                         apache %D (microseconds)
    www.example.go.id:443 1.2.3.4 - - [...] "GET / HTTP/1.1" ...    apache vhost_combined
    www.example.go.id 1.2.3.4 - - [...] ...                         "$host $remote_addr" style
"""

from __future__ import annotations

import re
from typing import Any

from ronda.schema import Event
from sensor.parsers.common import (
    is_ip,
    seconds_to_ns,
    set_address,
    set_url,
    split_host_port,
    unescape,
)
from sensor.parsers.timeparse import CLFTime

_HOST = r"(?:(\d{1,3}(?:\.\d{1,3}){3}|[0-9A-Fa-f]{0,4}:[0-9A-Fa-f:.]*)|(\S+))"
_VHOST_PREFIX = r"(\S+?)(?::(\d{1,5}))? "
# Quoted fields: lines without a backslash use the cheap "[^"]*"; others the escape-aware form.
_PLAIN_Q = r'"([^"]*)"'
_ESC_Q = r'"([^"\\]*(?:\\.[^"\\]*)*)"'
# The request: METHOD target [HTTP/x.y]; anything else (TLS bytes, "-") as one raw string.
_PLAIN_REQ = r'"(?:([A-Z][A-Za-z_-]*) ([^\s"]+)(?: HTTP/([\d.]+))?"|([^"]*)")'
_ESC_REQ = (
    r'"(?:([A-Z][A-Za-z_-]*) ((?:[^\s"\\]|\\.)+)(?: HTTP/([\d.]+))?"'
    r'|([^"\\]*(?:\\.[^"\\]*)*)")'
)


def _line(quoted: str, request: str, vhost: bool) -> re.Pattern[str]:
    body = (
        _HOST
        + r" \S+ (\S+) \[([^\]]{26})\] "
        + request
        + r" (\d{3}) (\d+|-)(?: "
        + quoted
        + " "
        + quoted
        + r")?(.*)"
    )
    return re.compile((_VHOST_PREFIX if vhost else "") + body, re.DOTALL)


_FAST = _line(_PLAIN_Q, _PLAIN_REQ, vhost=False)
_FAST_VHOST = _line(_PLAIN_Q, _PLAIN_REQ, vhost=True)
_ESCAPED = _line(_ESC_Q, _ESC_REQ, vhost=False)
_ESCAPED_VHOST = _line(_ESC_Q, _ESC_REQ, vhost=True)
_EXTRA = re.compile(r'"([^"\\]*(?:\\.[^"\\]*)*)"|(\S+)')
_NUMBER = re.compile(r"\d+(?:\.\d+)?$")
_SECONDS_KEYS = frozenset(("rt", "request_time", "reqtime", "rtime", "T"))
_MICROS_KEYS = frozenset(("D", "us", "request_time_us", "duration_us"))
_WEB = "web"


class AccessLogParser:
    """Parse one access-log line into a ``nginx.access`` / ``apache.access`` event."""

    __slots__ = ("_apache", "_dataset", "_time")

    def __init__(self, dataset: str) -> None:
        self._dataset = dataset
        self._apache = dataset.startswith("apache")
        self._time = CLFTime()

    def __call__(self, line: str) -> Event | None:
        escaped = "\\" in line
        m = (_ESCAPED if escaped else _FAST).match(line)
        vhost = port = None
        if m is not None:
            groups = m.groups()
        else:
            m = (_ESCAPED_VHOST if escaped else _FAST_VHOST).match(line)
            if m is None:
                return None
            all_groups = m.groups()
            vhost, port = all_groups[0], all_groups[1]
            groups = all_groups[2:]
        ip, host, user, when, method, url, version, raw, status, size, ref, ua, rest = groups
        ts = self._time(when)
        if ts is None:
            return None
        code = int(status)
        fields: dict[str, Any] = {
            "source.ip": ip,
            "source.address": ip,
            "http.response.status_code": code,
            "http.response.body.bytes": 0 if size == "-" else int(size),
            "event.category": [_WEB],
            "event.kind": "event",
            "event.outcome": "success" if code < 400 else "failure",
        }
        if ip is None:
            del fields["source.ip"]
            _host_field(fields, host)
        if user != "-":
            fields["user.name"] = user
        if method is not None:
            if escaped:
                url = unescape(url)
            fields["http.request.method"] = method
            set_url(fields, url)
            if version is not None:
                fields["http.version"] = version
        elif raw and raw != "-":
            fields["url.original"] = unescape(raw) if escaped else raw
        if ref is not None:
            if ref != "-" and ref:
                fields["http.request.referrer"] = unescape(ref) if escaped else ref
            if ua != "-" and ua:
                fields["user_agent.original"] = unescape(ua) if escaped else ua
        if vhost is not None:
            if vhost != "-":
                fields["url.domain"] = vhost
                fields["destination.domain"] = vhost
            if port is not None:
                fields["destination.port"] = int(port)
        if rest:
            self._extras(rest, fields)
        return Event(self._dataset, ts, fields, line)

    def _extras(self, rest: str, fields: dict[str, Any]) -> None:
        """Trailing fields: X-Forwarded-For, request time (bare or ``key=value``)."""
        seen_quoted = False
        for m in _EXTRA.finditer(rest):
            quoted, bare = m.groups()
            if quoted is not None:
                if not seen_quoted:
                    seen_quoted = True
                    first = quoted.split(",", 1)[0].strip()
                    if first and is_ip(first):
                        fields["network.forwarded_ip"] = first
                continue
            if "event.duration" in fields:
                continue
            key, eq, value = bare.partition("=")
            if eq:
                value = value.strip('"')
                if key in _SECONDS_KEYS:
                    _set_duration(fields, value, 1.0)
                elif key in _MICROS_KEYS:
                    _set_duration(fields, value, 1e-6)
            elif "/" in bare and self._apache:
                _set_duration(fields, bare.rpartition("/")[2], 1e-6)  # "%T/%D"
            elif _NUMBER.match(bare):
                if "." in bare:
                    _set_duration(fields, bare, 1.0)
                elif self._apache:
                    _set_duration(fields, bare, 1e-6)


def _host_field(fields: dict[str, Any], host: str) -> None:
    """The client column when it is not a bare IP: ``ip:port``, ``[v6]:port`` or a name."""
    addr, port = split_host_port(host)
    set_address(fields, "source", addr)
    if port is not None:
        fields["source.port"] = port


def _set_duration(fields: dict[str, Any], value: str, unit: float) -> None:
    if not _NUMBER.match(value):
        return
    if unit == 1.0:
        ns = seconds_to_ns(value)
    else:
        ns = round(float(value) * unit * 1e9) if len(value) < 16 else None
    if ns is not None:
        fields["event.duration"] = ns
