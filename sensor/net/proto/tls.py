"""TLS handshakes over TCP: one ``tls`` event per connection, with the ClientHello's SNI,
ALPN offer, JA3 and JA4 and, when seen, the ServerHello's version, cipher and JA3S.

A TCP flow is TLS when one of its first ``SNIFF_PACKETS`` packets starts a handshake record
holding a ClientHello. The hello may span records and segments: a buffer per direction (at
most ``MAX_BUFFER`` bytes, in arrival order) joins them. The event goes out when the
ServerHello is parsed, or when the flow ends without one. Defects count as
``tls_malformed``.
"""

from __future__ import annotations

from typing import Any

from ronda.schema import Event
from sensor.net.flowrecord import Flow
from sensor.net.hooks import EmitEvent, Packet
from sensor.net.proto.common import SNIFF_PACKETS, Errors, flow_fields
from sensor.net.proto.ja3 import ja3_string, ja3s_string, md5
from sensor.net.proto.ja4 import ja4_hash_raw, ja4_parts
from sensor.net.proto.tlsmsg import (
    CLIENT_HELLO,
    SERVER_HELLO,
    BadHello,
    Hello,
    handshake,
    is_grease,
    parse_hello,
)
from sensor.net.proto.tlsnames import VERSIONS, cipher_name

MAX_BUFFER = 32_768


class _State:
    __slots__ = ("bufs", "client", "client_is_orig", "done", "server", "ts")

    def __init__(self, client_is_orig: bool, ts: float) -> None:
        self.client_is_orig = client_is_orig
        self.ts = ts
        self.bufs = (bytearray(), bytearray())  # client, server
        self.client: Hello | None = None
        self.server: Hello | None = None
        self.done = False


class TlsObserver:
    name = "tls"
    payload_only = True

    def __init__(self, source: str = "", errors: Errors | None = None) -> None:
        self.source = source
        self.errors: Errors = errors if errors is not None else Errors()

    def on_packet(self, flow: Flow, pkt: Packet, from_orig: bool, payload: memoryview,
                  emit: EmitEvent) -> None:
        if flow.protocol != "tls":
            if (flow.protocol or flow.proto != 6 or flow.o_pkts + flow.r_pkts > SNIFF_PACKETS
                    or len(payload) < 6 or payload[0] != 0x16 or payload[1] != 3
                    or payload[5] != CLIENT_HELLO):
                return
            flow.protocol = "tls"
            st = _State(from_orig, pkt.ts)
            if flow.ext is None:
                flow.ext = {"tls": st}
            else:
                flow.ext["tls"] = st
        else:
            found: _State | None = flow.ext.get("tls") if flow.ext else None
            if found is None or found.done:
                return
            st = found
        is_client = from_orig is st.client_is_orig
        if (st.client if is_client else st.server) is not None:
            return
        buf = st.bufs[0 if is_client else 1]
        buf += payload[:MAX_BUFFER - len(buf)]
        try:
            got = handshake(buf)
            if got is None:
                if len(buf) >= MAX_BUFFER:
                    raise BadHello("hello larger than the buffer")
                return
            kind, body = got
            if kind != (CLIENT_HELLO if is_client else SERVER_HELLO):
                raise BadHello("unexpected handshake message")
            hello = parse_hello(kind, body)
        except (BadHello, IndexError):
            buf.clear()
            if is_client:
                self.errors["tls_malformed"] += 1
                st.done = True
            elif st.client is not None:  # no usable ServerHello: report the client's
                self._emit(flow, st, emit)
            return
        buf.clear()
        if is_client:
            st.client = hello
        else:
            st.server = hello
            if st.client is not None:
                self._emit(flow, st, emit)

    def _emit(self, flow: Flow, st: _State, emit: EmitEvent) -> None:
        st.done = True
        emit(self.event(flow, st))

    def event(self, flow: Flow, st: _State) -> Event:
        ch = st.client
        assert ch is not None
        f = flow_fields(flow, st.client_is_orig)
        f.update({"event.category": ["network"], "event.type": ["protocol"],
                  "event.action": "tls_handshake"})
        if ch.sni:
            f["tls.client.server_name"] = ch.sni
            f["destination.domain"] = ch.sni
        j3 = ja3_string(ch)
        a, b, c = ja4_parts(ch)
        raw = f"{a}_{b}_{c}"
        f["tls.client.ja3"] = md5(j3)
        f["ronda.tls.ja3_string"] = j3
        f["tls.client.ja4"] = ja4_hash_raw(raw)
        f["ronda.tls.ja4_r"] = raw
        f["tls.client.supported_ciphers"] = [cipher_name(x) for x in ch.ciphers
                                             if not is_grease(x)]
        if ch.alpn:
            f["ronda.tls.alpn"] = [x.decode("ascii", "backslashreplace") for x in ch.alpn]
        offered = [v for v in ch.versions if not is_grease(v)]
        version = max(offered) if offered else ch.version
        sh = st.server
        if sh is not None:
            version = sh.versions[0] if sh.versions else sh.version
            f["tls.cipher"] = cipher_name(sh.ciphers[0])
            j3s = ja3s_string(sh)
            f["tls.server.ja3s"] = md5(j3s)
            f["ronda.tls.ja3s_string"] = j3s
            if sh.alpn:
                f["tls.next_protocol"] = sh.alpn[0].decode("ascii", "backslashreplace")
            f["tls.established"] = True
        names = VERSIONS.get(version)
        if names is not None:
            f["tls.version_protocol"], f["tls.version"] = names
        message = (f"TLS {names[1] if names else hex(version)} to {ch.sni or f['destination.ip']}"
                   f" ja3 {f['tls.client.ja3']} ja4 {f['tls.client.ja4']}")
        return Event("tls", st.ts, f, message, self.source)

    def on_flow_end(self, flow: Flow, reason: str, emit: EmitEvent) -> None:
        ext: dict[str, Any] | None = flow.ext
        st: _State | None = None if ext is None else ext.get("tls")
        if st is not None and not st.done and st.client is not None:
            self._emit(flow, st, emit)
