"""The sensor's payload sample (the input of payload rules) and its ECS encoding."""

from __future__ import annotations

import base64
import json
import socket
from typing import Any

from ronda.schema import Event
from sensor.net.decode import ethernet
from sensor.net.flows import FlowTable
from sensor.net.payload import PayloadSampler
from sensor.net.pcapwrite import ACK, PSH, SYN, ether, ipv4, tcp

A, B = socket.inet_aton("198.51.100.7"), socket.inet_aton("10.0.0.80")


def _run(limit: int, packets: list[bytes]) -> list[Event]:
    events: list[Event] = []
    table = FlowTable(events.append, observers=[PayloadSampler(limit)] if limit else [])
    for i, frame in enumerate(packets):
        d = ethernet(frame, 0, len(frame), len(frame))
        assert not isinstance(d, str)
        table.packet(1_767_225_600.0 + i * 0.001, d)
    table.flush()
    return [e for e in events if e.dataset == "network.flow"]


FRAMES = [
    ether(ipv4(A, B, 6, tcp(41000, 80, SYN))),
    ether(ipv4(B, A, 6, tcp(80, 41000, SYN | ACK))),
    ether(ipv4(A, B, 6, tcp(41000, 80, PSH | ACK, b"GET /one HTTP/1.1\r\n\r\n"))),
    ether(ipv4(A, B, 6, tcp(41000, 80, PSH | ACK, b"GET /two HTTP/1.1\r\n\r\n"))),
    ether(ipv4(B, A, 6, tcp(80, 41000, PSH | ACK, b"HTTP/1.1 200 OK\r\n\r\n"))),
]


def test_sample_is_bounded_per_direction() -> None:
    [ev] = _run(10, FRAMES)
    assert ev.fields["ronda.payload.to_server"] == b"GET /one H"
    assert ev.fields["ronda.payload.to_client"] == b"HTTP/1.1 2"
    [big] = _run(4096, FRAMES)
    assert big.fields["ronda.payload.to_server"].count(b"GET /") == 2


def test_a_full_side_is_not_watched_and_the_other_side_still_sampled() -> None:
    """A download: once the responder's sample is full, the table stops calling the
    sampler for the responder's packets (its watch count is 0); the client's side is
    still sampled, also after the bulk."""
    seen: list[tuple[bool, int]] = []

    class Counting:  # (a compiled class cannot be subclassed here)
        name, payload_only = "payload", True
        sampler = PayloadSampler(1500)

        def on_packet(self, flow: Any, pkt: Any, from_orig: bool, payload: memoryview,
                      emit: Any) -> None:
            seen.append((from_orig, len(payload)))
            self.sampler.on_packet(flow, pkt, from_orig, payload, emit)

        def on_flow_end(self, flow: Any, reason: str, emit: Any) -> None:
            pass

    bulk = [ether(ipv4(B, A, 6, tcp(80, 41000, ACK, bytes([65 + i]) * 1000)))
            for i in range(20)]
    frames = [*FRAMES[:3], *bulk, ether(ipv4(A, B, 6, tcp(41000, 80, PSH | ACK, b"BYE")))]
    events: list[Event] = []
    table = FlowTable(events.append, observers=[Counting()])
    for i, frame in enumerate(frames):
        d = ethernet(frame, 0, len(frame), len(frame))
        assert not isinstance(d, str)
        table.packet(1_767_225_600.0 + i * 0.001, d)
    [flow] = list(table._tcp.values())
    assert (flow.o_watch, flow.r_watch) == (1, 0)
    assert seen == [(True, 21), (False, 1000), (False, 1000), (True, 3)]
    table.flush()
    [ev] = events
    assert ev.fields["ronda.payload.to_server"] == b"GET /one HTTP/1.1\r\n\r\nBYE"
    assert ev.fields["ronda.payload.to_client"] == b"A" * 1000 + b"B" * 500


def test_no_sample_when_off() -> None:
    [ev] = _run(0, FRAMES)
    assert "ronda.payload.to_server" not in ev.fields


def test_bytes_fields_are_base64_in_ecs() -> None:
    [ev] = _run(10, FRAMES)
    doc = ev.to_ecs()
    json.dumps(doc)
    assert base64.b64decode(doc["ronda"]["payload"]["to_server"]) == b"GET /one H"


def test_request_header_block_is_bounded_and_redacted() -> None:
    from sensor.net.proto.httpmsg import MAX_RAW, parse_head

    head = parse_head(b"GET / HTTP/1.1\r\nHost: a\r\nCookie: sid=s3cret\r\n"
                      b"Authorization: Basic dXNlcjpwdw==\r\nX-Api: ${jndi:x}\r\n", True)
    assert head.raw == ("Host: a\r\nCookie: [redacted]\r\nAuthorization: [redacted]\r\n"
                        "X-Api: ${jndi:x}\r\n")
    big = parse_head(b"GET / HTTP/1.1\r\n" + b"X-Pad: " + b"a" * 10_000, True)
    assert len(big.raw) == MAX_RAW
    assert parse_head(b"HTTP/1.1 200 OK\r\nServer: x", False).raw == ""
