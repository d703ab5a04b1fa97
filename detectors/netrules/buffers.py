"""The buffers of an event: what each sticky buffer of a rule looks at.

HTTP buffers are taken from the sensor's ``http`` event (request side). ``http.uri`` is
the raw request target (Suricata normalises it; Ronda does not). ``http.header`` is the
request header block when the sensor attached it (``ronda.http.request_headers``: every
``Name: value\r\n`` line, Authorization and Cookie values redacted, first 4 KiB), else
rebuilt from the headers the event carries (Host, User-Agent, Referer, Content-Type).
``http.start`` is the request line, CRLF, that header block and the empty line that ends
it: the start of the request as it was on the wire (no body).
"""

from __future__ import annotations

from typing import Any

from detectors.netrules.rule import BUFFER_DATASET, HTTP_START, PAYLOAD
from ronda.schema import Event

MAX_BUFFER = 65536
EVERY_BUFFER = frozenset(BUFFER_DATASET)


def _b(value: Any) -> bytes | None:
    if isinstance(value, bytes):
        return value[:MAX_BUFFER]
    if isinstance(value, str) and value:
        return value.encode("utf-8", "surrogateescape")[:MAX_BUFFER]
    return None


def _header_block(f: dict[str, Any]) -> bytes | None:
    raw = _b(f.get("ronda.http.request_headers"))
    if raw is not None:
        return raw if raw.endswith(b"\r\n") else raw + b"\r\n"  # each header ends so
    lines = []
    for name, key in (("Host", "url.domain"), ("User-Agent", "user_agent.original"),
                      ("Referer", "http.request.referrer"),
                      ("Content-Type", "http.request.mime_type")):
        value = f.get(key)
        if isinstance(value, str) and value:
            lines.append(f"{name}: {value}\r\n")
    return "".join(lines).encode("utf-8", "surrogateescape") if lines else None


def event_buffers(event: Event, wanted: frozenset[str] | None = None) -> dict[str, bytes]:
    """Buffer name -> bytes, for the buffers the event has (of ``wanted`` only, when
    given: what the rules for this kind of event read)."""
    f = event.fields
    out: dict[str, bytes | None] = {}
    ds = event.dataset
    if wanted is None:
        wanted = EVERY_BUFFER
    if ds == "http":
        method, uri = f.get("http.request.method"), f.get("url.original")
        if "http.uri" in wanted:
            out["http.uri"] = _b(uri)
        if "http.method" in wanted:
            out["http.method"] = _b(method)
        if "http.host" in wanted:
            host = f.get("url.domain")
            out["http.host"] = _b(host.lower() if isinstance(host, str) else None)
        if "http.user_agent" in wanted:
            out["http.user_agent"] = _b(f.get("user_agent.original"))
        start = HTTP_START in wanted
        block = None
        if start or "http.header" in wanted:
            block = out["http.header"] = _header_block(f)
        if (start or "http.request_line" in wanted) and isinstance(method, str) \
                and isinstance(uri, str):
            version = f.get("http.version") or "1.1"
            line = out["http.request_line"] = _b(f"{method} {uri} HTTP/{version}")
            if line is not None and start:
                out[HTTP_START] = (line + b"\r\n" + (block or b"") + b"\r\n")[:MAX_BUFFER]
    elif ds == "dns":
        out["dns.query"] = _b(f.get("dns.question.name"))
    elif ds == "tls":
        out["tls.sni"] = _b(f.get("tls.client.server_name"))
    elif ds == "network.flow":
        out[PAYLOAD + ":to_server"] = _b(f.get("ronda.payload.to_server"))
        out[PAYLOAD + ":to_client"] = _b(f.get("ronda.payload.to_client"))
    return {k: v for k, v in out.items() if v is not None}
