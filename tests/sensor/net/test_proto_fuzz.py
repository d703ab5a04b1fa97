"""Mutated protocol packets through every observer: never an exception, state bounded."""

from __future__ import annotations

import random
import struct
from collections.abc import Iterator
from typing import Any

from sensor.net.engine import PacketEngine
from sensor.net.flows import FlowTable
from sensor.net.pcapwrite import ether, ipv4, tcp, udp
from sensor.net.proto.common import Errors
from sensor.net.proto.registry import make_observers
from tests.sensor.net.helpers import T0
from tests.sensor.net.test_proto_dns import _compressed, _q
from tests.sensor.net.test_proto_tls import client_hello, server_hello

A, B = b"\x0a\0\0\1", b"\x0a\0\0\2"


def _samples() -> list[bytes]:
    q = _q(7, "fuzz.example.go.id", "TXT")
    http_req = (b"GET /a?b=c HTTP/1.1\r\nHost: h.example\r\nUser-Agent: x\r\n"
                b"Content-Length: 3\r\n\r\nabcPOST /p HTTP/1.0\r\n\r\n")
    http_resp = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 101 Up\r\n\r\n"
    return [
        ether(ipv4(A, B, 17, udp(5353, 53, q))),
        ether(ipv4(B, A, 17, udp(53, 5353, _compressed()))),
        ether(ipv4(A, B, 6, tcp(40000, 53, 0x18, struct.pack("!H", len(q)) + q))),
        ether(ipv4(B, A, 6, tcp(53, 40000, 0x18, struct.pack("!H", 90) + _compressed()))),
        ether(ipv4(A, B, 6, tcp(40001, 80, 0x18, http_req))),
        ether(ipv4(B, A, 6, tcp(80, 40001, 0x18, http_resp))),
        ether(ipv4(A, B, 6, tcp(40002, 443, 0x18, client_hello()))),
        ether(ipv4(B, A, 6, tcp(443, 40002, 0x18, server_hello()))),
        ether(ipv4(A, B, 6, tcp(40003, 22, 0x18, b"SSH-2.0-OpenSSH_9.6\r\n"))),
        ether(ipv4(B, A, 6, tcp(22, 40003, 0x18, b"SSH-2.0-dropbear\r\n"))),
        ether(ipv4(A, B, 6, tcp(40004, 8080, 0x02))),
    ]


def test_100k_mutated_protocol_packets_never_crash() -> None:
    rng = random.Random(20261122)
    samples = _samples()
    events: list[Any] = []
    errs = Errors()
    observers = make_observers(["dns", "http", "tls", "ssh"], "fuzz", errs)
    table = FlowTable(events.append, max_flows=300, observers=observers)
    engine = PacketEngine(table)

    def records() -> Iterator[tuple[float, int, bytes, int, int, int]]:
        for i in range(100_000):
            frame = bytearray(rng.choice(samples))
            if rng.random() < 0.8:  # leave the headers alone mostly: reach the parsers
                for _ in range(rng.randrange(1, 6)):
                    frame[rng.randrange(54, len(frame)) if len(frame) > 54
                          else rng.randrange(len(frame))] = rng.randrange(256)
            else:
                frame[rng.randrange(len(frame))] = rng.randrange(256)
            if rng.random() < 0.2:
                frame = frame[:rng.randrange(len(frame) + 1)]
            data = bytes(frame)
            # ports vary a little, so flows start (sniffing) and end (flushing) often
            yield T0 + i * 0.01, 1, data, 0, len(data), len(data)

    engine.run(records(), lambda ts: True)
    table.flush()
    assert engine.packets == 100_000
    by_ds: dict[str, int] = {}
    for e in events:
        by_ds[e.dataset] = by_ds.get(e.dataset, 0) + 1
    assert {"dns", "http", "tls", "ssh", "network.flow"} <= set(by_ds)
    assert errs["dns_malformed"] > 100 and errs["tls_malformed"] + errs["http_malformed"] > 0
    assert table.peak <= 300 and len(table) == 0
    for e in events:  # every event serialises
        e.to_ecs("fuzz")
