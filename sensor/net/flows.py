"""The flow table: bidirectional 5-tuple flows, TCP state, timeouts on packet time, and a
hard bound on its size.

Flows live in least-recently-active order in one ordered dict per timeout class (TCP,
UDP, ICMP and other IP protocols, and TCP connections closed by FIN/RST that linger a few
seconds for their last ACKs). Each packet moves its flow to the end of its dict, so the
idle sweep (once per second of packet time) only looks at the fronts: its cost is the
number of flows that expire, never the table size. When the table is full, a new flow
first evicts the least recently active flow (reason ``evicted``, counted).

A flow ends with one ``network.flow`` event; ``event.reason`` says why: ``end`` (TCP
closed by FIN or RST), ``idle`` (no packet for the idle timeout), ``active`` (open longer
than the active timeout: the record is cut and the flow goes on in a new record),
``evicted`` (table full) or ``shutdown`` (still open when the input ended).
"""

from __future__ import annotations

from collections import Counter, OrderedDict
from collections.abc import Sequence

from sensor.net.decode import Decoded
from sensor.net.flowevent import FlowEvents
from sensor.net.flowrecord import Flow, FlowKey
from sensor.net.hooks import EmitEvent, FlowObserver, Packet
from sensor.net.tcpstate import (
    ACK,
    H_ACK,
    H_DATA,
    INACTIVE,
    RESP_SHIFT,
    SYN,
    finished,
    update,
)

SWEEP_INTERVAL = 1.0
R_DATA, R_ACK = H_DATA << RESP_SHIFT, H_ACK << RESP_SHIFT
# ICMP types with a counterpart (request <-> reply), as the Community ID spec pairs them;
# such messages share one flow. The second sets are replies, flipped when seen first.
ICMP4_PAIR = {8: 0, 0: 8, 13: 14, 14: 13, 15: 16, 16: 15, 10: 9, 17: 18, 18: 17}
ICMP6_PAIR = {128: 129, 129: 128, 133: 134, 134: 133, 135: 136, 136: 135, 130: 131,
              131: 130, 139: 140, 140: 139, 144: 145, 145: 144}
ICMP_REPLIES = frozenset({0, 14, 16, 18, 129})
# Ports that are servers' rather than clients' (below 1024, and common higher ones), for
# guessing the originator of a flow first seen mid-stream.
SERVER_PORTS = frozenset({1080, 1194, 1433, 1521, 1883, 2049, 2375, 3128, 3306, 3389,
                          5060, 5061, 5432, 5672, 5900, 5985, 5986, 6379, 6443, 8000,
                          8080, 8443, 8883, 9000, 9090, 9092, 9200, 9300, 11211, 27017})


def _server_port(port: int) -> bool:
    return port < 1024 or port in SERVER_PORTS


class FlowTable:
    def __init__(self, emit: EmitEvent, *, source: str = "", tcp_idle: float = 300.0,
                 udp_idle: float = 60.0, other_idle: float = 60.0,
                 active_timeout: float = 1800.0, max_flows: int = 200_000,
                 close_linger: float = 5.0, observers: Sequence[FlowObserver] = ()) -> None:
        if max_flows < 1:
            raise ValueError("max_flows must be at least 1")
        self.emit = emit
        self.source = source
        self.make_event = FlowEvents(source)
        self.max_flows = max_flows
        self.active_timeout = active_timeout
        self._tcp: OrderedDict[FlowKey, Flow] = OrderedDict()
        self._udp: OrderedDict[FlowKey, Flow] = OrderedDict()
        self._other: OrderedDict[FlowKey, Flow] = OrderedDict()
        self._closing: OrderedDict[FlowKey, Flow] = OrderedDict()
        self._classes = ((self._tcp, tcp_idle, "idle"), (self._udp, udp_idle, "idle"),
                         (self._other, other_idle, "idle"),
                         (self._closing, close_linger, "end"))
        self.observers = tuple(observers)
        self._all_packets = any(not o.payload_only for o in self.observers)
        self._watchers = len(self.observers)
        self.next_sweep = float("-inf")
        self.count = 0
        self.peak = 0
        self.evictions = 0
        self.ended: Counter[str] = Counter()

    def __len__(self) -> int:
        return self.count

    # the hot path ----------------------------------------------------------------------
    def packet(self, ts: float, d: Decoded) -> None:
        proto, src, dst, sport, dport, flags, iplen, pllen, plo, ple, vlan, _ = d
        code = -1
        if proto == 6:
            lru = self._tcp
        elif proto == 17:
            lru = self._udp
        else:
            lru = self._other
            if proto == 1 or proto == 58:
                code = dport
                pair = (ICMP4_PAIR if proto == 1 else ICMP6_PAIR).get(sport)
                if pair is not None:
                    dport = pair
        if src < dst or (src == dst and sport <= dport):
            key = (src, dst, sport, dport, proto)
            lo = True
        else:
            key = (dst, src, dport, sport, proto)
            lo = False
        flow = lru.get(key)
        if flow is not None:
            lru.move_to_end(key)
        else:
            flow = self._closing.get(key) if proto == 6 else None
            if flow is not None:
                if flags & (SYN | ACK) == SYN:  # a new connection reusing the ports
                    del self._closing[key]
                    self._end(flow, "end")
                    flow = None
                else:
                    self._closing.move_to_end(key)
            if flow is None:
                flow = self._new(ts, key, lo, proto, src, dst, sport, dport, flags, vlan, lru)
                flow.icmp_code = code
        if ts > flow.last:
            flow.last = ts
            if ts - flow.start >= self.active_timeout:
                self._cut(flow, ts)
        # the two directions mirror each other on purpose: each touches its own fields
        # directly, with no per-packet indirection (this is the hottest code)
        if lo is flow.orig_lo:
            flow.o_pkts += 1
            flow.o_bytes += iplen
            if proto == 6:
                if flags & 7 or flow.o_state == INACTIVE:
                    self._tcp_slow(flow, True, flags, pllen, key)
                elif pllen:
                    if not flow.hbits & H_DATA:
                        flow.hbits |= H_DATA
                        flow.hist += "D"
                elif flags & ACK and not flow.hbits & H_ACK:
                    flow.hbits |= H_ACK
                    flow.hist += "A"
            elif proto == 17 and not flow.hbits & H_DATA:
                flow.hbits |= H_DATA
                flow.hist += "D"
            if flow.o_watch > 0 and (ple > plo or self._all_packets):
                self._observe(flow, ts, d, True)
        else:
            flow.r_pkts += 1
            flow.r_bytes += iplen
            if proto == 6:
                if flags & 7 or flow.r_state == INACTIVE:
                    self._tcp_slow(flow, False, flags, pllen, key)
                elif pllen:
                    if not flow.hbits & R_DATA:
                        flow.hbits |= R_DATA
                        flow.hist += "d"
                elif flags & ACK and not flow.hbits & R_ACK:
                    flow.hbits |= R_ACK
                    flow.hist += "a"
            elif proto == 17 and not flow.hbits & R_DATA:
                flow.hbits |= R_DATA
                flow.hist += "d"
            if flow.r_watch > 0 and (ple > plo or self._all_packets):
                self._observe(flow, ts, d, False)
        if ts >= self.next_sweep:
            self.sweep(ts)

    def _tcp_slow(self, flow: Flow, is_orig: bool, flags: int, pllen: int,
                  key: FlowKey) -> None:
        """A segment that may change the TCP state (SYN, FIN, RST, or a first segment)."""
        update(flow, is_orig, flags, pllen)
        if not flow.closing and finished(flow):
            flow.closing = True
            del self._tcp[key]
            self._closing[key] = flow

    # flow life -------------------------------------------------------------------------
    def _new(self, ts: float, key: FlowKey, lo: bool, proto: int, src: bytes, dst: bytes,
             sport: int, dport: int, flags: int, vlan: int,
             lru: OrderedDict[FlowKey, Flow]) -> Flow:
        if self.count >= self.max_flows:
            self._evict()
        if proto == 6:
            flip = (flags & (SYN | ACK) == SYN | ACK
                    or (not flags & SYN and _server_port(sport) and not _server_port(dport)))
        elif proto == 17:
            flip = _server_port(sport) and not _server_port(dport)
        else:
            flip = (proto == 1 or proto == 58) and sport in ICMP_REPLIES
        if flip:
            flow = Flow(key, proto, dst, src, dport, sport, not lo, ts, vlan)
            flow.hist = "^"
        else:
            flow = Flow(key, proto, src, dst, sport, dport, lo, ts, vlan)
            flow.oflags = flags
        flow.o_watch = flow.r_watch = self._watchers
        lru[key] = flow
        self.count += 1
        if self.count > self.peak:
            self.peak = self.count
        return flow

    def _evict(self) -> None:
        """Make room: a lingering closed connection if there is one, else the least
        recently active flow."""
        if self._closing:
            _, flow = self._closing.popitem(last=False)
            self._end(flow, "end")
            return
        oldest: Flow | None = None
        where = self._tcp
        for lru in (self._tcp, self._udp, self._other):
            if lru:
                front = next(iter(lru.values()))
                if oldest is None or front.last < oldest.last:
                    oldest, where = front, lru
        if oldest is not None:
            del where[oldest.key]
            self.evictions += 1
            self._end(oldest, "evicted")

    def _cut(self, flow: Flow, ts: float) -> None:
        """Active timeout: emit the record so far; the flow goes on in a new record."""
        self.ended["active"] += 1
        self.emit(self.make_event(flow, "active"))
        flow.restart(ts)

    def _end(self, flow: Flow, reason: str) -> None:
        self.count -= 1
        self.ended[reason] += 1
        for obs in self.observers:
            obs.on_flow_end(flow, reason, self.emit)
        self.emit(self.make_event(flow, reason))

    def _observe(self, flow: Flow, ts: float, d: Decoded, is_orig: bool) -> None:
        proto, src, dst, sport, dport, flags, iplen, pllen, plo, ple, vlan, buf = d
        pkt = Packet(ts, proto, src, dst, sport, dport, flags, iplen, pllen, vlan)
        payload = memoryview(buf)[plo:ple]
        for obs in self.observers:
            if ple > plo or not obs.payload_only:
                obs.on_packet(flow, pkt, is_orig, payload, self.emit)

    def sweep(self, now: float) -> None:
        """End the flows idle longer than their timeout (and lingering closed ones)."""
        self.next_sweep = now + SWEEP_INTERVAL
        for lru, timeout, reason in self._classes:
            limit = now - timeout
            while lru:
                flow = next(iter(lru.values()))
                if flow.last > limit:
                    break
                del lru[flow.key]
                self._end(flow, reason)

    def flush(self) -> None:
        """End every flow (the input ended): closed ones with ``end``, others ``shutdown``."""
        for lru, _, reason in self._classes:
            while lru:
                _, flow = lru.popitem(last=False)
                self._end(flow, "end" if reason == "end" else "shutdown")
