"""The flow table: timeouts on packet time, the hard bound, the observer hook, Community
ID, and a spoofed-source flood staying within its bounds."""

from __future__ import annotations

import json
import resource
from pathlib import Path

import pytest

from ronda.schema import Event
from sensor.net.communityid import community_id
from sensor.net.engine import PacketEngine
from sensor.net.flowrecord import Flow
from sensor.net.flows import FlowTable
from sensor.net.hooks import EmitEvent, Packet
from sensor.net.pcapwrite import ACK, FIN, PSH, SYN, ether, ipv4, tcp, udp
from tests.sensor.net.helpers import T0, feed

A, B, C = b"\x0a\0\0\1", b"\x0a\0\0\2", b"\x0a\0\0\3"


def syn(src: bytes, sport: int, dst: bytes = B, dport: int = 80) -> bytes:
    return ether(ipv4(src, dst, 6, tcp(sport, dport, SYN)))


def test_idle_timeouts_follow_packet_time() -> None:
    frames = [(T0, syn(A, 1000)), (T0 + 1, ether(ipv4(A, B, 17, udp(999, 53, b"q")))),
              # 61 s later: the UDP flow (1 min) has expired, the TCP one (5 min) has not
              (T0 + 62, ether(ipv4(C, B, 17, udp(999, 53, b"q")))),
              (T0 + 400, ether(ipv4(C, B, 17, udp(998, 53, b"q"))))]
    events, _ = feed(frames)
    reasons = [(e.fields["network.transport"], e.fields["source.ip"], e.fields["event.reason"])
               for e in events]
    assert reasons[:3] == [("udp", "10.0.0.1", "idle"), ("tcp", "10.0.0.1", "idle"),
                           ("udp", "10.0.0.3", "idle")]
    assert events[0].timestamp == T0 + 1  # the flow's last packet, not the sweep's time
    assert [r[2] for r in reasons[3:]] == ["shutdown"]


def test_configured_timeouts_and_active_cut() -> None:
    frames = [(T0 + i * 10.0, ether(ipv4(A, B, 17, udp(5000, 514, b"log")))) for i in range(8)]
    events, _ = feed(frames, udp_idle=15.0, active_timeout=30.0)
    got = [(e.fields["event.reason"], e.fields["network.packets"]) for e in events]
    assert got == [("active", 3), ("active", 3), ("shutdown", 2)]
    assert events[1].fields["event.start"] == "2026-01-01T00:00:30.000Z"


def test_closed_connection_lingers_for_its_last_ack() -> None:
    c2s = [(SYN, b""), (ACK, b""), (PSH | ACK, b"x"), (FIN | ACK, b"")]
    frames = [(T0 + i, ether(ipv4(A, B, 6, tcp(1000, 80, f, d)))) for i, (f, d) in enumerate(c2s)]
    frames.insert(1, (T0 + 0.5, ether(ipv4(B, A, 6, tcp(80, 1000, SYN | ACK)))))
    frames.append((T0 + 4, ether(ipv4(B, A, 6, tcp(80, 1000, FIN | ACK)))))
    frames.append((T0 + 5, ether(ipv4(A, B, 6, tcp(1000, 80, ACK)))))  # the last ACK
    frames.append((T0 + 20, syn(C, 7)))  # time passes: the closed flow ends
    events, engine = feed(frames)
    first = events[0].fields
    assert (first["ronda.flow.state"], first["ronda.flow.history"]) == ("SF", "ShADFf")
    assert first["network.packets"] == 7 and first["event.reason"] == "end"
    assert engine.table.ended["end"] == 1


def test_table_bound_evicts_least_recently_active() -> None:
    frames = [(T0 + i, syn(bytes((10, 1, 0, i)), 1000)) for i in range(5)]
    frames.insert(3, (T0 + 2.5, syn(bytes((10, 1, 0, 0)), 1000)))  # flow 0 active again
    events, engine = feed(frames, max_flows=3)
    evicted = [e.fields["source.ip"] for e in events if e.fields["event.reason"] == "evicted"]
    assert evicted == ["10.1.0.1", "10.1.0.2"]
    assert engine.table.evictions == 2 and engine.table.peak == 3


class Recorder:
    name = "recorder"

    def __init__(self, payload_only: bool = True) -> None:
        self.payload_only = payload_only
        self.seen: list[tuple[str, bool, bytes]] = []
        self.ended: list[str] = []

    def on_packet(self, flow: Flow, pkt: Packet, from_orig: bool, payload: memoryview,
                  emit: EmitEvent) -> None:
        self.seen.append(((pkt.proto == 6 and "tcp") or "udp", from_orig, bytes(payload)))
        if bytes(payload).startswith(b"GET"):
            flow.protocol = "http"
            ext = flow.ext = flow.ext or {}
            ext[self.name] = "request"
            emit(Event("http", pkt.ts, {"http.request.method": "GET"}))

    def on_flow_end(self, flow: Flow, reason: str, emit: EmitEvent) -> None:
        self.ended.append(reason)


def test_observers_see_payload_and_emit_through_the_same_path() -> None:
    rec, every = Recorder(), Recorder(payload_only=False)
    frames = [(T0, syn(A, 1000)),
              (T0 + 1, ether(ipv4(B, A, 6, tcp(80, 1000, SYN | ACK)))),
              (T0 + 2, ether(ipv4(A, B, 6, tcp(1000, 80, PSH | ACK, b"GET / HTTP/1.1\r\n")))),
              (T0 + 3, ether(ipv4(B, A, 6, tcp(80, 1000, PSH | ACK, b"HTTP/1.1 200 OK"))))]
    events, _ = feed(frames, observers=[rec, every])
    assert rec.seen == [("tcp", True, b"GET / HTTP/1.1\r\n"), ("tcp", False, b"HTTP/1.1 200 OK")]
    assert len(every.seen) == 4 and rec.ended == ["shutdown"]
    assert [e.dataset for e in events] == ["http", "http", "network.flow"]  # one per observer
    assert events[2].fields["network.protocol"] == "http"


BASELINE = Path(__file__).with_name("community_id_baseline.json")


def test_community_id_matches_the_spec_baseline() -> None:
    import ipaddress

    for case in json.loads(BASELINE.read_text()):
        s = ipaddress.ip_address(case["saddr"]).packed
        d = ipaddress.ip_address(case["daddr"]).packed
        got = community_id(s, d, case["proto"], case["sport"] or 0, case["dport"] or 0)
        assert got == case["communityid"], case


@pytest.mark.slow
def test_spoofed_source_flood_stays_within_bounds(capsys: pytest.CaptureFixture[str]) -> None:
    """1 million SYNs from 1 million distinct source addresses: the flow table never
    holds more than max_flows, every flow beyond it is evicted and counted."""
    n, bound = 1_000_000, 20_000
    template = syn(A, 40000, dst=C, dport=443)
    events = 0

    def count(ev: Event) -> None:
        nonlocal events
        events += 1

    table = FlowTable(count, max_flows=bound)
    engine = PacketEngine(table)
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    peaks: list[int] = []

    def records():  # type: ignore[no-untyped-def]
        head, tail = template[:26], template[30:]
        for i in range(n):
            frame = head + (0x0B000000 + i).to_bytes(4, "big") + tail
            yield T0 + i * 1e-5, 1, frame, 0, len(frame), len(frame)

    def tick(ts: float) -> bool:
        peaks.append(len(table))
        return True

    engine.run(records(), tick)
    assert max(peaks) <= bound and table.peak == bound
    assert table.evictions == n - bound
    table.flush()
    assert events == n and len(table) == 0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with capsys.disabled():
        print(f"\nflood: {n} sources, max_flows {bound}, peak table {table.peak}, "
              f"evictions {table.evictions}, peak RSS {rss / 1024:.0f} MiB "
              f"(+{(rss - rss0) / 1024:.0f} MiB during the flood)")


def test_address_texts_are_cached_within_a_bound() -> None:
    import socket

    from sensor.net import flowevent

    six = socket.inet_pton(socket.AF_INET6, "2001:db8::1")
    assert flowevent.ip_text(bytes((10, 0, 0, 1))) == "10.0.0.1"
    assert flowevent.ip_text(six) == "2001:db8::1"
    for i in range(flowevent.MAX_TEXTS + 10):
        assert flowevent.ip_text(i.to_bytes(4, "big")) == socket.inet_ntoa(i.to_bytes(4, "big"))
    assert len(flowevent._TEXTS) <= flowevent.MAX_TEXTS
    assert flowevent.ip_text(six) == "2001:db8::1"
