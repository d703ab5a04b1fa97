"""TLS handshakes over TCP: one ``tls`` event per connection, with the ClientHello's SNI,
ALPN offer, JA3 and JA4 and, when seen, the ServerHello's version, cipher and JA3S.

A TCP flow is TLS when one of its first ``SNIFF_PACKETS`` packets starts a handshake record
holding a ClientHello. The hello may span records and segments: a buffer per direction (at
most ``MAX_BUFFER`` bytes, in arrival order) joins them. The event goes out when the
ServerHello is parsed, or when the flow ends without one. Defects count as
``tls_malformed``. A hello being joined is held to the source's buffer budget
(``buffers.Budget``): one dropped for want of it counts as ``proto_buffer_budget`` and that
side is given up, as for an oversize one.
"""

from __future__ import annotations

from ronda.schema import Event
from sensor.net.flowrecord import Flow
from sensor.net.hooks import EmitEvent, Packet
from sensor.net.proto.base import FlowState, ProtocolParser
from sensor.net.proto.buffers import Budget, joined, keep
from sensor.net.proto.common import Errors, flow_fields
from sensor.net.proto.tlsmsg import (
    CLIENT_HELLO,
    SERVER_HELLO,
    BadHello,
    Hello,
    handshake,
    parse_hello,
)
from sensor.net.proto.tlsnames import VERSIONS
from sensor.net.proto.tlsprint import Prints

MAX_BUFFER = 32_768


class _State(FlowState):
    __slots__ = ("client", "client_is_orig", "server", "ts")

    def __init__(self, client_is_orig: bool, ts: float) -> None:
        super().__init__()
        self.client_is_orig = client_is_orig
        self.ts = ts
        self.client: Hello | None = None
        self.server: Hello | None = None


class TlsObserver(ProtocolParser[_State]):
    name = "tls"
    first_bytes = frozenset({0x16})

    def __init__(self, source: str = "", errors: Errors | None = None,
                 budget: Budget | None = None) -> None:
        super().__init__(source, errors, budget)
        self.prints = Prints()  # fingerprints by distinct hello

    def sniff(self, flow: Flow, payload: memoryview) -> bool:
        return (flow.proto == 6 and len(payload) >= 6 and payload[0] == 0x16
                and payload[1] == 3 and payload[5] == CLIENT_HELLO)

    def new_state(self, flow: Flow, pkt: Packet, from_orig: bool) -> _State:
        return _State(from_orig, pkt.ts)

    def feed(self, flow: Flow, st: _State, buf: bytearray, pkt: Packet, from_orig: bool,
             payload: memoryview, emit: EmitEvent) -> None:
        is_client = from_orig is st.client_is_orig
        if (st.client if is_client else st.server) is not None:
            return
        hay = joined(buf, payload[:MAX_BUFFER - len(buf)])
        try:
            got = handshake(hay)
            if got is None:
                if len(hay) >= MAX_BUFFER:
                    raise BadHello("hello larger than the buffer")
                keep(buf, hay)
                return
            kind, body = got
            if kind != (CLIENT_HELLO if is_client else SERVER_HELLO):
                raise BadHello("unexpected handshake message")
            hello = parse_hello(kind, body)
        except (BadHello, IndexError):
            buf.clear()
            if is_client:
                self.errors["tls_malformed"] += 1
            self._failed(flow, st, is_client, emit)
            return
        buf.clear()
        if is_client:
            st.client = hello
        else:
            st.server = hello
            if st.client is not None:
                self._emit(flow, st, emit)

    def dropped(self, flow: Flow, st: _State, buf: bytearray, from_orig: bool,
                emit: EmitEvent) -> None:
        self._failed(flow, st, from_orig is st.client_is_orig, emit)

    def _failed(self, flow: Flow, st: _State, is_client: bool, emit: EmitEvent) -> None:
        """No usable hello from one side: give up (the client's alone is reported)."""
        if is_client:
            st.done = True
        elif st.client is not None:
            self._emit(flow, st, emit)

    def _emit(self, flow: Flow, st: _State, emit: EmitEvent) -> None:
        st.done = True
        emit(self.event(flow, st))

    def event(self, flow: Flow, st: _State) -> Event:
        ch = st.client
        assert ch is not None
        cp = self.prints.client(ch)
        f = flow_fields(flow, st.client_is_orig)
        f["event.category"] = ["network"]
        f["event.type"] = ["protocol"]
        f["event.action"] = "tls_handshake"
        if ch.sni:
            f["tls.client.server_name"] = ch.sni
            f["destination.domain"] = ch.sni
        f["tls.client.ja3"] = cp.ja3
        f["ronda.tls.ja3_string"] = cp.ja3_string
        f["tls.client.ja4"] = cp.ja4
        f["ronda.tls.ja4_r"] = cp.ja4_r
        f["tls.client.supported_ciphers"] = list(cp.ciphers)
        if cp.alpn:
            f["ronda.tls.alpn"] = list(cp.alpn)
        version = cp.version
        sh = st.server
        if sh is not None:
            sp = self.prints.server(sh)
            version = sp.version
            f["tls.cipher"] = sp.cipher
            f["tls.server.ja3s"] = sp.ja3s
            f["ronda.tls.ja3s_string"] = sp.ja3s_string
            if sp.next_protocol is not None:
                f["tls.next_protocol"] = sp.next_protocol
            f["tls.established"] = True
        names = VERSIONS.get(version)
        if names is not None:
            f["tls.version_protocol"], f["tls.version"] = names
        message = (f"TLS {names[1] if names else hex(version)} to {ch.sni or f['destination.ip']}"
                   f" ja3 {cp.ja3} ja4 {cp.ja4}")
        return Event("tls", st.ts, f, message, self.source)

    def finish(self, flow: Flow, st: _State, emit: EmitEvent) -> None:
        if not st.done and st.client is not None:
            self._emit(flow, st, emit)
