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
