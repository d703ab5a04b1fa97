"""HTTP/1.x over TCP: one ``http`` event per request/response pair.

A TCP flow is HTTP when one of its first ``SNIFF_PACKETS`` packets starts with a request
line (``GET /...``). Requests wait in a bounded queue per flow (pipelining) and pair with
responses in order; a request still waiting when the flow ends is emitted without a
status. Heads are joined over segments up to ``MAX_HEAD`` bytes; bodies are skipped by
``Content-Length`` (a chunked or unsized body is skipped until a segment starts a new
message), never reassembled. A head being joined is held to the source's buffer budget
(``buffers.Budget``): one dropped for want of it counts as ``proto_buffer_budget`` and the
parser waits for the next message start, as after an oversize head. The fields are those
of the ``nginx.access`` events, so the Sigma ``webserver`` rules apply unchanged.
"""

from __future__ import annotations

from collections import deque

from ronda.schema import Event
from sensor.net.flowrecord import Flow
from sensor.net.hooks import EmitEvent, Packet
from sensor.net.proto.base import FlowState, ProtocolParser
from sensor.net.proto.buffers import joined, keep
from sensor.net.proto.common import duration_ns, flow_fields
from sensor.net.proto.httpmsg import METHODS, RESPONSE, BadHead, Head, parse_head

MAX_HEAD = 16_384
MAX_QUEUE = 32
_FIRST = frozenset(m[0] for m in METHODS)  # a request line starts with one of these bytes


class _Side:
    __slots__ = ("skip", "ts")

    def __init__(self) -> None:
        self.skip = 0  # body bytes still to pass over
        self.ts = 0.0  # when the head being buffered began


class _State(FlowState):
    __slots__ = ("client_is_orig", "queue", "req", "resp")

    def __init__(self, client_is_orig: bool) -> None:
        super().__init__()  # done: the connection turned into something else (101, CONNECT)
        self.client_is_orig = client_is_orig
        self.req = _Side()
        self.resp = _Side()
        self.queue: deque[tuple[float, Head]] = deque()


class HttpObserver(ProtocolParser[_State]):
    name = "http"
    first_bytes = _FIRST

    def sniff(self, flow: Flow, payload: memoryview) -> bool:
        return (flow.proto == 6 and len(payload) >= 4 and payload[0] in _FIRST
                and bytes(payload[:10]).startswith(METHODS))

    def new_state(self, flow: Flow, pkt: Packet, from_orig: bool) -> _State:
        return _State(from_orig)

    def feed(self, flow: Flow, st: _State, buf: bytearray, pkt: Packet, from_orig: bool,
             payload: memoryview, emit: EmitEvent) -> None:
        is_req = from_orig is st.client_is_orig
        side = st.req if is_req else st.resp
        if side.skip >= len(payload):  # a body segment: nothing to look at
            side.skip -= len(payload)
            return
        self._feed(flow, st, side, buf, is_req, pkt.ts, bytes(payload), emit)

    def _feed(self, flow: Flow, st: _State, side: _Side, buf: bytearray, is_req: bool,
              ts: float, data: bytes, emit: EmitEvent) -> None:
        """Heads from ``data`` (joined to the part in ``buf``), bodies skipped."""
        pos, n = 0, len(data)
        start = METHODS if is_req else RESPONSE
        while pos < n and not st.done:
            if side.skip:
                take = min(side.skip, n - pos)
                side.skip -= take
                pos += take
                continue
            old = len(buf)
            if not old:
                if not data.startswith(start, pos):
                    return  # a body we cannot delimit, or not HTTP: wait for a new message
                side.ts = ts
            hay = joined(buf, data[pos:pos + MAX_HEAD])
            end = hay.find(b"\r\n\r\n")
            sep = 4
            if end < 0:
                end = hay.find(b"\n\n")
                sep = 2
            if end < 0:
                if len(hay) >= MAX_HEAD:
                    self.errors["http_malformed"] += 1
                    buf.clear()
                else:
                    keep(buf, hay)
                return
            head = bytes(hay[:end])
            pos += end + sep - old
            buf.clear()
            try:
                parsed = parse_head(head, is_req)
            except BadHead:
                self.errors["http_malformed"] += 1
                continue
            if is_req:
                self._request(flow, st, side, side.ts, parsed, emit)
            else:
                self._response(flow, st, side, ts, parsed, emit)

    def _request(self, flow: Flow, st: _State, side: _Side, ts: float, head: Head,
                 emit: EmitEvent) -> None:
        if len(st.queue) >= MAX_QUEUE:
            t0, old = st.queue.popleft()
            emit(self.event(flow, st, t0, old, None, t0))
        st.queue.append((ts, head))
        side.skip = head.content_length() or 0

    def _response(self, flow: Flow, st: _State, side: _Side, ts: float, head: Head,
                  emit: EmitEvent) -> None:
        status = int(head.b)
        length = head.content_length()
        if 100 <= status < 200 and status != 101:
            return  # interim (100 Continue): the final response follows
        if not st.queue:
            side.skip = length or 0
            return  # a response to a request we did not see
        t0, req = st.queue.popleft()
        emit(self.event(flow, st, t0, req, head, ts))
        if status == 101 or (req.a == "CONNECT" and 200 <= status < 300):
            st.done = True  # a tunnel or another protocol from here on
        elif req.a != "HEAD" and status not in (204, 304):
            side.skip = length or 0

    def event(self, flow: Flow, st: _State, ts: float, req: Head, resp: Head | None,
              resp_ts: float) -> Event:
        f = flow_fields(flow, st.client_is_orig)
        h = req.headers
        target = req.b
        f.update({"event.category": ["web"], "event.type": ["access"],
                  "event.action": "http_request", "http.request.method": req.a,
                  "url.original": target, "http.version": req.c})
        q = target.find("?")
        if q < 0:
            f["url.path"] = target
        else:
            f["url.path"] = target[:q]
            if q + 1 < len(target):
                f["url.query"] = target[q + 1:]
        host = h.get("host")
        if host:
            f["url.domain"] = f["destination.domain"] = _host_name(host)
        for header, name in (("user-agent", "user_agent.original"),
                             ("referer", "http.request.referrer"),
                             ("content-type", "http.request.mime_type")):
            value = h.get(header)
            if value:
                f[name] = value
        if req.raw:
            f["ronda.http.request_headers"] = req.raw
        req_len = req.content_length()
        if req_len is not None:
            f["http.request.body.bytes"] = req_len
        xff = h.get("x-forwarded-for", "").split(",", 1)[0].strip()
        if xff:
            f["network.forwarded_ip"] = xff
        status = "-"
        if resp is not None:
            code = int(resp.b)
            status = resp.b
            f["http.response.status_code"] = code
            f["event.outcome"] = "success" if code < 400 else "failure"
            f["event.duration"] = duration_ns(ts, resp_ts)
            rlen = resp.content_length()
            if rlen is not None:
                f["http.response.body.bytes"] = rlen
            for header, name in (("content-type", "http.response.mime_type"),
                                 ("location", "ronda.http.location"),
                                 ("server", "ronda.http.server")):
                value = resp.headers.get(header)
                if value:
                    f[name] = value
        message = f'{f["source.ip"]} "{req.a} {target} HTTP/{req.c}" {status} {host or "-"}'
        return Event("http", ts, f, message, self.source)

    def finish(self, flow: Flow, st: _State, emit: EmitEvent) -> None:
        while st.queue:
            t0, req = st.queue.popleft()
            emit(self.event(flow, st, t0, req, None, t0))


def _host_name(host: str) -> str:
    """The Host header without its port (``[v6]:port`` too)."""
    if host.startswith("["):
        return host[1:host.find("]")] if "]" in host else host
    name, _, port = host.rpartition(":")
    return name if name and port.isdigit() else host
