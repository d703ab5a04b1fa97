"""JSON lines: one object per line, flattened to dotted ECS keys.

Common nginx ``log_format ... escape=json`` keys (``remote_addr``, ``request_uri``,
``status``...) are mapped to their ECS names when present.
"""

from __future__ import annotations

import json
from typing import Any

from ronda.clock import Clock
from ronda.schema import Event
from sensor.parsers.common import is_ip, seconds_to_ns, set_address, set_url, to_int
from sensor.parsers.timeparse import CLFTime, ISOTime, epoch_from_number

MAX_DEPTH = 32
_TIME_KEYS = ("@timestamp", "timestamp", "time", "time_iso8601", "time_local", "msec")
_STRINGS = {
    "remote_user": "user.name",
    "request_method": "http.request.method",
    "http_user_agent": "user_agent.original",
    "http_referer": "http.request.referrer",
}
_INTS = {
    "status": "http.response.status_code",
    "body_bytes_sent": "http.response.body.bytes",
    "remote_port": "source.port",
    "server_port": "destination.port",
}
_WEB_MARKERS = ("http.response.status_code", "url.original", "http.request.method")


class _Rejected(ValueError):
    pass


def _reject_constant(name: str) -> Any:
    raise _Rejected(f"non-finite number {name}")


def _flatten(obj: dict[str, Any], prefix: str, out: dict[str, Any], depth: int) -> bool:
    if depth > MAX_DEPTH:
        return False
    for key, value in obj.items():
        name = prefix + key
        if isinstance(value, dict):
            if not _flatten(value, name + ".", out, depth + 1):
                return False
        else:
            out[name] = value
    return True


class JsonParser:
    """The ``json`` format. ``dataset`` is used when the object has no ``event.dataset``."""

    __slots__ = ("_clf", "_clock", "_dataset", "_iso")

    def __init__(self, clock: Clock, dataset: str = "json") -> None:
        self._clock = clock
        self._dataset = dataset
        self._iso = ISOTime()
        self._clf = CLFTime()

    def __call__(self, line: str) -> Event | None:
        if line[:1] != "{" and not line.lstrip().startswith("{"):
            return None
        try:
            obj = json.loads(line, parse_constant=_reject_constant)
        except (ValueError, RecursionError):
            return None
        if not isinstance(obj, dict):
            return None
        fields: dict[str, Any] = {}
        if not _flatten(obj, "", fields, 0):
            return None
        ts = self._timestamp(fields)
        _map_nginx(fields)
        dataset = fields.pop("event.dataset", None)
        if not isinstance(dataset, str) or not dataset:
            dataset = self._dataset
        return Event(dataset, ts, fields, line)

    def _timestamp(self, fields: dict[str, Any]) -> float:
        for key in _TIME_KEYS:
            value = fields.get(key)
            if value is None or isinstance(value, bool):
                continue
            ts: float | None = None
            if isinstance(value, int | float):
                ts = epoch_from_number(value)
            elif isinstance(value, str):
                ts = self._time_string(value.strip())
            if ts is not None:
                del fields[key]
                return ts
        return self._clock.now()

    def _time_string(self, s: str) -> float | None:
        if not s or len(s) > 64:
            return None
        if s[0].isdigit() and s.isascii():
            if s.replace(".", "", 1).isdigit():
                return epoch_from_number(float(s))
            if len(s) == 26 and s[2] == "/":
                return self._clf(s)
            return self._iso(s)
        return None


def _map_nginx(fields: dict[str, Any]) -> None:
    """Rename nginx variable names to ECS; ``-`` and empty values are dropped."""
    for key, target in _STRINGS.items():
        value = fields.pop(key, None)
        if isinstance(value, str) and value not in ("", "-"):
            fields.setdefault(target, value)
    for key, target in _INTS.items():
        n = to_int(fields.pop(key, None))
        if n is not None:
            fields.setdefault(target, n)
    addr = fields.pop("remote_addr", None)
    if isinstance(addr, str) and addr not in ("", "-"):
        set_address(fields, "source", addr)
    uri = fields.pop("request_uri", None)
    request = fields.pop("request", None)
    if isinstance(uri, str) and uri not in ("", "-"):
        set_url(fields, uri)
    elif isinstance(request, str) and request not in ("", "-"):
        parts = request.split(" ")
        if len(parts) in (2, 3) and parts[0].isalpha() and parts[0].isupper():
            fields.setdefault("http.request.method", parts[0])
            set_url(fields, parts[1])
            if len(parts) == 3 and parts[2].startswith("HTTP/"):
                fields.setdefault("http.version", parts[2][5:])
        else:
            fields["url.original"] = request
    for key in ("host", "server_name"):
        host = fields.pop(key, None)
        if isinstance(host, str) and host not in ("", "-", "_"):
            fields.setdefault("url.domain", host)
            fields.setdefault("destination.domain", host)
    proto = fields.pop("server_protocol", None)
    if isinstance(proto, str) and proto.startswith("HTTP/"):
        fields.setdefault("http.version", proto[5:])
    rt = fields.pop("request_time", None)
    if isinstance(rt, int | float) and not isinstance(rt, bool):
        rt = str(rt)
    if isinstance(rt, str):
        ns = seconds_to_ns(rt)
        if ns is not None:
            fields.setdefault("event.duration", ns)
    xff = fields.pop("http_x_forwarded_for", None)
    if isinstance(xff, str):
        first = xff.split(",", 1)[0].strip()
        if is_ip(first):
            fields.setdefault("network.forwarded_ip", first)
    if any(k in fields for k in _WEB_MARKERS) and "event.category" not in fields:
        fields["event.category"] = ["web"]
        fields.setdefault("event.kind", "event")
        status = fields.get("http.response.status_code")
        if isinstance(status, int) and "event.outcome" not in fields:
            fields["event.outcome"] = "success" if status < 400 else "failure"
