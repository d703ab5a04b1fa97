"""The byte budget the protocol parsers' buffers share (sensor.net.proto.buffers): drops
counted, accounting back to zero when flows end, parsers in sync again after a drop."""

from __future__ import annotations

import random
import struct

import pytest

from ronda.schema import Event
from sensor.net.engine import PacketEngine
from sensor.net.flowrecord import Flow
from sensor.net.flows import FlowTable
from sensor.net.hooks import EmitEvent, FlowObserver, Packet
from sensor.net.pcapwrite import ACK, PSH, ether, ipv4, tcp, udp
from sensor.net.proto.buffers import BUDGET_REASON, DEFAULT_BUDGET, Budget
from sensor.net.proto.common import Errors
from sensor.net.proto.http import HttpObserver
from sensor.net.proto.registry import ALL, buffer_budget, make_observers
from tests.sensor.net.helpers import T0
from tests.sensor.net.test_proto_dns import _compressed
from tests.sensor.net.test_proto_tls import client_hello, server_hello

A, B = bytes((10, 0, 0, 1)), bytes((10, 0, 0, 2))
REQ = b"GET /index.html HTTP/1.1\r\nHost: example.com\r\nUser-Agent: t\r\n\r\n"
RESP = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
DNSQ = struct.pack("!HHHHHH", 77, 0x0100, 1, 0, 0, 0) + b"\x03www\x07example\x03com\x00" + \
    struct.pack("!HH", 1, 1)


def tcp_frame(cport: int, sport: int, data: bytes, to_server: bool = True) -> bytes:
    if to_server:
        return ether(ipv4(A, B, 6, tcp(cport, sport, PSH | ACK, data)))
    return ether(ipv4(B, A, 6, tcp(sport, cport, PSH | ACK, data)))


def framed(msg: bytes) -> bytes:
    return struct.pack("!H", len(msg)) + msg


class Tracked:
    """In front of the dispatch: knows the live flows, to check ``used`` against the
    bytes their parser states really hold."""

    name = "tracked"
    payload_only = True

    def __init__(self, inner: FlowObserver) -> None:
        self.inner = inner
        self.live: dict[int, Flow] = {}

    def on_packet(self, flow: Flow, pkt: Packet, from_orig: bool, payload: memoryview,
                  emit: EmitEvent) -> None:
        self.live[id(flow)] = flow
        self.inner.on_packet(flow, pkt, from_orig, payload, emit)

    def on_flow_end(self, flow: Flow, reason: str, emit: EmitEvent) -> None:
        self.live.pop(id(flow), None)
        self.inner.on_flow_end(flow, reason, emit)

    def held(self) -> int:
        return sum(len(b) for f in self.live.values() for st in (f.ext or {}).values()
                   for b in getattr(st, "bufs", ()))


class Run:
    def __init__(self, budget_bytes: int, max_flows: int = 10_000) -> None:
        self.errors = Errors()
        self.events: list[Event] = []
        observers = make_observers(ALL, "t", self.errors, buffer_bytes=budget_bytes)
        budget = buffer_budget(observers)
        assert budget is not None and budget.limit == budget_bytes
        self.budget = budget
        self.tracked = Tracked(observers[0])
        self.table = FlowTable(self.events.append, max_flows=max_flows,
                               observers=[self.tracked])
        self.engine = PacketEngine(self.table)
        self.t = T0

    def send(self, *frames: bytes) -> None:
        records = []
        for f in frames:
            self.t += 0.001
            records.append((self.t, 1, f, 0, len(f), len(f)))
        self.engine.run(records, lambda ts: True)
        assert 0 <= self.budget.used <= self.budget.limit
        assert self.budget.used == self.tracked.held()

    def of(self, dataset: str) -> list[Event]:
        return [e for e in self.events if e.dataset == dataset]

    def end(self) -> None:
        self.table.flush()
        assert self.budget.used == 0 and self.tracked.held() == 0


def test_budget_defaults_and_settle() -> None:
    assert DEFAULT_BUDGET == 64 * 1024 * 1024
    assert buffer_budget(make_observers(["dns"])) is not None
    assert buffer_budget([]) is None
    errs = Errors()
    b = Budget(10, errs)
    buf = bytearray(b"12345678")
    assert b.settle(buf, 0) and b.used == 8 and b.peak == 8
    buf += b"9ab"
    assert not b.settle(buf, 8)  # 11 > 10: the message goes, its 8 bytes come back
    assert b.used == 0 and b.drops == 1 and errs[BUDGET_REASON] == 1
    buf.clear()
    buf += b"xyz"
    assert b.settle(buf, 0) and b.used == 3
    del buf[:2]
    assert b.settle(buf, 3) and b.used == 1  # shrinking always settles
    b.release(buf, bytearray())
    assert b.used == 0 and not buf and b.free() == 10
    with pytest.raises(ValueError):
        Budget(-1)


def test_http_partial_heads_exhaust_the_budget_and_come_back() -> None:
    run = Run(budget_bytes=10_000)
    partial = REQ[:-4] + b"X-Pad: " + b"a" * 900  # 966 bytes, no end of head
    run.send(*(tcp_frame(40000 + i, 80, partial) for i in range(100)))
    held = run.budget.used
    assert held == 10 * len(partial)  # 10 fit, 90 dropped
    assert run.errors[BUDGET_REASON] == 90 and run.errors["http_malformed"] == 0
    # a head complete in one segment costs nothing: parsed though the budget is spent
    run.send(tcp_frame(50000, 80, REQ), tcp_frame(50000, 80, RESP, to_server=False))
    assert [e.fields["url.path"] for e in run.of("http")] == ["/index.html"]
    assert run.budget.used == held
    run.end()
    assert len(run.of("http")) == 1  # partial heads are no requests


def test_http_resyncs_after_a_drop_on_the_same_flow() -> None:
    run = Run(budget_bytes=500)
    run.send(tcp_frame(40000, 80, REQ[:20]),  # the flow is HTTP; 20 bytes held
             tcp_frame(40000, 80, b"X-Long: " + b"b" * 600),  # past the budget: dropped
             tcp_frame(40000, 80, b"c" * 100 + b"\r\n\r\n"),  # its rest: not a new message
             tcp_frame(40000, 80, REQ[:30]),  # a later request, split: held again
             tcp_frame(40000, 80, REQ[30:]),
             tcp_frame(40000, 80, RESP, to_server=False))
    assert run.errors == {BUDGET_REASON: 1}
    (ev,) = run.of("http")
    assert ev.fields["http.response.status_code"] == 200 and ev.fields["url.path"] == "/index.html"
    run.end()


def test_tls_partial_hellos_dropped_without_malformed_counts() -> None:
    ch = client_hello()
    run = Run(budget_bytes=1_000)
    run.send(*(tcp_frame(40000 + i, 443, ch[:100]) for i in range(50)))
    assert run.budget.used == 1_000 and run.errors == {BUDGET_REASON: 40}
    # the dropped flows gave up (their rest is not parsed as garbage), the kept ones go on
    run.send(*(tcp_frame(40000 + i, 443, ch[100:]) for i in range(50)))
    assert run.budget.used == 0 and run.errors == {BUDGET_REASON: 40}
    # a hello in one segment is parsed with the budget spent by others
    run.send(*(tcp_frame(41000 + i, 443, ch[:100]) for i in range(10)))
    run.send(tcp_frame(42000, 443, ch), tcp_frame(42000, 443, server_hello(), to_server=False))
    assert run.budget.used == 1_000
    run.end()
    tls = run.of("tls")
    assert len(tls) == 11  # the 10 joined hellos, the whole one; none of the partial ones
    assert sum(1 for e in tls if e.fields.get("tls.established")) == 1


def test_dns_tcp_drop_passes_over_the_rest_of_the_message() -> None:
    run = Run(budget_bytes=600)
    q1 = framed(DNSQ)
    answer = framed(_compressed())
    padded = DNSQ + b"\x00" * 700  # a query with 700 bytes of trailing data
    run.send(tcp_frame(40000, 53, framed(padded)[:400]),  # held: 400 bytes
             tcp_frame(40000, 53, framed(padded)[400:650]),  # 650 > 600: dropped
             tcp_frame(40000, 53, framed(padded)[650:] + q1[:5]),  # rest passed over
             tcp_frame(40000, 53, q1[5:]),
             tcp_frame(40000, 53, answer[:7], to_server=False),
             tcp_frame(40000, 53, answer[7:], to_server=False))
    assert run.errors == {BUDGET_REASON: 1}
    (ev,) = run.of("dns")
    assert ev.fields["dns.type"] == "answer" and ev.fields["dns.id"] == 77
    assert ev.fields["dns.question.name"] == "www.example.com"
    run.end()


def test_dns_tcp_many_flows_partial_messages_back_to_zero() -> None:
    run = Run(budget_bytes=2_000)
    msg = framed(DNSQ)
    run.send(*(tcp_frame(40000 + i, 53, msg[:20]) for i in range(200)))
    assert run.budget.used == 2_000 and run.errors[BUDGET_REASON] == 100
    run.send(*(tcp_frame(40000 + i, 53, msg[20:]) for i in range(200)))
    assert run.budget.used == 0 and "dns_malformed" not in run.errors
    run.end()
    assert len(run.of("dns")) == 100  # the held queries, unanswered at the end


def test_ssh_banner_drop_gives_the_side_up() -> None:
    run = Run(budget_bytes=10)
    run.send(tcp_frame(40000, 22, b"SSH-2.0-"),
             tcp_frame(40000, 22, b"OpenSSH_9.6 a long comment here"),
             tcp_frame(40000, 22, b"SSH-2.0-dropbear\r\n", to_server=False))
    assert run.errors == {BUDGET_REASON: 1}
    (ev,) = run.of("ssh")
    assert ev.fields["ronda.ssh.server_version"] == "SSH-2.0-dropbear"
    assert "ronda.ssh.client_version" not in ev.fields
    run.end()


def test_accounting_never_drifts_with_random_partial_messages() -> None:
    """Partial heads, hellos and DNS messages on many flows, cut and ended at random (an
    evicting table): ``used`` always equals what the live flows hold, and is 0 at the end."""
    rng = random.Random(5)
    ch, sh = client_hello(), server_hello()
    samples: list[tuple[int, bytes, bool]] = [
        (80, REQ, True), (80, RESP + b"x" * 50, False), (443, ch, True), (443, sh, False),
        (53, framed(DNSQ) * 2, True), (53, framed(_compressed()), False),
        (22, b"SSH-2.0-OpenSSH_9.6\r\n", True), (8080, b"GET /x HTTP/1.0\r\n\r\n", True)]
    run = Run(budget_bytes=600, max_flows=60)
    for _ in range(40):
        frames: list[bytes] = []
        for _ in range(100):
            port, data, to_server = rng.choice(samples)
            a, b = sorted((rng.randrange(len(data) + 1), rng.randrange(len(data) + 1)))
            frames.append(tcp_frame(40000 + rng.randrange(120), port, data[a:b] or data,
                                    to_server))
        frames.append(ether(ipv4(A, B, 17, udp(5000, 53, DNSQ))))
        run.send(*frames)
    assert run.errors[BUDGET_REASON] > 0 and run.table.evictions > 0
    run.end()


@pytest.mark.parametrize("limit", [0, 1])
def test_a_spent_budget_still_parses_whole_messages(limit: int) -> None:
    run = Run(budget_bytes=limit)
    run.send(tcp_frame(40000, 80, REQ), tcp_frame(40000, 80, RESP, to_server=False),
             tcp_frame(40001, 443, client_hello()),
             tcp_frame(40001, 443, server_hello(), to_server=False),
             tcp_frame(40002, 53, framed(DNSQ)),
             tcp_frame(40002, 53, framed(_compressed()), to_server=False))
    assert {e.dataset for e in run.events} == {"http", "tls", "dns"}
    assert BUDGET_REASON not in run.errors
    run.end()


def test_a_parser_alone_keeps_to_its_own_budget() -> None:
    """A parser is a FlowObserver without the dispatch too (its own default budget)."""
    events: list[Event] = []
    http = HttpObserver()
    assert http.budget.limit == DEFAULT_BUDGET
    http.budget.limit = 100
    table = FlowTable(events.append, observers=[http])
    engine = PacketEngine(table)
    frames = [tcp_frame(40000, 80, REQ[:50]), tcp_frame(40001, 80, REQ[:60]),
              tcp_frame(40000, 80, REQ[50:]), tcp_frame(40000, 80, RESP, to_server=False)]
    engine.run([(T0 + i, 1, f, 0, len(f), len(f)) for i, f in enumerate(frames)],
               lambda ts: True)
    assert http.errors == {BUDGET_REASON: 1} and http.budget.used == 0
    table.flush()
    assert [e.fields.get("http.response.status_code") for e in events
            if e.dataset == "http"] == [200]
