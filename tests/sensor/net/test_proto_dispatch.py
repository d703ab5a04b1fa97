"""ProtocolDispatch's pre-filter (the parsers' ``first_bytes`` and ``ports``) never hides a
packet a parser's ``sniff`` would take."""

from __future__ import annotations

import random
from typing import Any

from sensor.net.flowrecord import Flow
from sensor.net.proto.base import ProtocolParser
from sensor.net.proto.dispatch import ProtocolDispatch
from sensor.net.proto.registry import ALL, PROTOCOLS, make_observers
from tests.sensor.net.test_proto_tls import client_hello

STARTS = [b"GET / HTTP/1.1\r\n", b"SEARCH / HTTP/1.1", b"SSH-2.0-x\r\n", client_hello(),
          b"HTTP/1.1 200 OK\r\n", b"\x00\x1d\x00\x01", b"", b"S", b"\x16\x03\x01\x00\x05\x01"]


def _flow(proto: int, sport: int, dport: int) -> Flow:
    key = (b"\x0a\0\0\1", b"\x0a\0\0\2", sport, dport, proto)
    return Flow(key, proto, key[0], key[1], sport, dport, True, 0.0, 0)


def test_prefilter_is_conservative() -> None:
    rng = random.Random(3)
    parsers: list[ProtocolParser[Any]] = [PROTOCOLS[n]() for n in ALL]
    payloads = STARTS + [bytes(rng.randrange(256) for _ in range(rng.randrange(1, 40)))
                         for _ in range(3000)]
    ports = [22, 53, 80, 443, 2222, 5353, 8080, 40000]
    taken = 0
    for data in payloads:
        for proto in (6, 17, 1):
            flow = _flow(proto, rng.choice(ports), rng.choice(ports))
            for p in parsers:
                if p.transports is not None and proto not in p.transports:
                    assert not p.sniff(flow, memoryview(data))
                    continue
                if p.sniff(flow, memoryview(data)):
                    taken += 1
                    assert p.first_bytes is None or (data and data[0] in p.first_bytes) or \
                        flow.resp_port in p.ports or flow.orig_port in p.ports, (p.name, data)
    assert taken > 100


def test_dispatch_holds_the_shared_budget() -> None:
    (dispatch,) = make_observers(ALL, buffer_bytes=1234)
    assert isinstance(dispatch, ProtocolDispatch)
    assert dispatch.budget is not None and dispatch.budget.limit == 1234
    assert all(p.budget is dispatch.budget for p in dispatch.parsers)


def test_a_flow_given_up_on_stays_so_after_an_active_timeout_cut() -> None:
    """No parser recognised the flow in its sniffing window; an active-timeout cut starts
    the record's counts over, but the flow is not sniffed again: a later packet that looks
    like a TLS hello is not claimed, and the flow's ``watch`` never goes below 0."""
    from sensor.net.flows import FlowTable
    from sensor.net.payload import PayloadSampler
    from sensor.net.pcapwrite import ACK, PSH, ether, ipv4, tcp
    from tests.sensor.net.helpers import feed

    errors: Any = __import__("collections").Counter()
    a, b = b"\x0a\0\0\1", b"\x0a\0\0\2"
    frames = [(float(i) / 10, ether(ipv4(a, b, 6, tcp(40000, 8080, PSH | ACK, b"hello"))))
              for i in range(14)]
    frames.append((11.0, ether(ipv4(a, b, 6, tcp(40000, 8080, PSH | ACK,
                                                 b"\x16\x03\x01\x00\x05\x01\x00\x00\x01\x00")))))
    seen: list[Flow] = []

    class Spy:
        name, payload_only = "spy", True

        def on_packet(self, flow: Flow, *args: Any) -> None:
            pass

        def on_flow_end(self, flow: Flow, reason: str, emit: Any) -> None:
            seen.append(flow)

    events, engine = feed(frames, active_timeout=10.0,
                          observers=[*make_observers(ALL, errors=errors), PayloadSampler(4096),
                                     Spy()])
    assert isinstance(engine.table, FlowTable)
    # the dispatcher gave up once; the sampler is done since the cut took its sample
    assert [(f.o_watch, f.r_watch) for f in seen] == [(1, 1)]  # the spy still watches
    assert not errors and not [e for e in events if e.dataset == "tls"]
    assert [e.fields["event.reason"] for e in events] == ["active", "shutdown"]
