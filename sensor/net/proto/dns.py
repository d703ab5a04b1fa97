"""DNS over UDP and TCP: one ``dns`` event per transaction (query paired with its answer).

A flow is DNS when either port is 53 or 5353. A query waits for the answer with the same
id on the same flow; the pair makes one event (``event.duration``: query to answer). A
query unanswered after ``QUERY_TIMEOUT`` seconds of packet time, or when its flow ends,
is emitted alone (``dns.type: query``, no ``dns.response_code``); an answer without its
query alone too (``dns.type: answer``). A query repeated with the same id before its answer
is a retransmission: the transaction (and its duration) starts with the first copy. At most
``MAX_PENDING`` queries wait per flow (the oldest goes out unanswered).

DNS over TCP: each message has a 2-byte length prefix and may be split over segments or
share one. A buffer per direction (at most one message, 64 KiB) joins them, taking
segments in arrival order only (no TCP reassembly: a lost or reordered segment garbles the
stream; the buffer is dropped and counted). The buffers are held to the source's buffer
budget (``buffers.Budget``): a message dropped for want of it counts as
``proto_buffer_budget`` and its rest is passed over, so the stream stays in sync.
Malformed messages are counted (``dns_malformed``) and skipped.
"""

from __future__ import annotations

from ronda.schema import Event
from sensor.net.flowrecord import Flow
from sensor.net.hooks import EmitEvent, Packet
from sensor.net.proto.base import FlowState, ProtocolParser
from sensor.net.proto.buffers import joined, keep
from sensor.net.proto.common import duration_ns, flow_fields
from sensor.net.proto.dnsmsg import (
    Malformed,
    Message,
    class_name,
    parse,
    rcode_name,
    type_name,
)

PORTS = frozenset({53, 5353})
QUERY_TIMEOUT = 30.0
MAX_PENDING = 64
MAX_TCP_BUFFER = 65_537
OPCODES = {0: "QUERY", 1: "IQUERY", 2: "STATUS", 4: "NOTIFY", 5: "UPDATE"}


class _State(FlowState):
    __slots__ = ("pending", "skip")

    def __init__(self) -> None:
        super().__init__()
        # id -> (ts, query, query came from the originator)
        self.pending: dict[int, tuple[float, Message, bool]] = {}
        # TCP, per direction: the rest of a message dropped for want of budget (to pass over)
        self.skip: list[int] | None = None


class DnsObserver(ProtocolParser[_State]):
    name = "dns"
    transports = None
    first_bytes = frozenset()
    ports = PORTS

    def sniff(self, flow: Flow, payload: memoryview) -> bool:
        return flow.resp_port in PORTS or flow.orig_port in PORTS

    def new_state(self, flow: Flow, pkt: Packet, from_orig: bool) -> _State:
        return _State()

    def feed(self, flow: Flow, st: _State, buf: bytearray, pkt: Packet, from_orig: bool,
             payload: memoryview, emit: EmitEvent) -> None:
        if flow.proto == 17:
            self._message(flow, st, pkt.ts, bytes(payload), from_orig, emit)
        elif flow.proto == 6:
            self._segment(flow, st, buf, pkt.ts, payload, from_orig, emit)

    def _segment(self, flow: Flow, st: _State, buf: bytearray, ts: float,
                 payload: memoryview, from_orig: bool, emit: EmitEvent) -> None:
        """Length-prefixed messages from ``payload`` joined to the part in ``buf``."""
        if st.skip is not None:
            side = 0 if from_orig else 1
            skip = st.skip[side]
            st.skip[side] = max(0, skip - len(payload))
            payload = payload[skip:]
        data = joined(buf, payload)
        pos, n = 0, len(data)
        while n - pos >= 2:
            end = pos + 2 + ((data[pos] << 8) | data[pos + 1])
            if n < end:
                break
            msg = bytes(data[pos + 2:end])
            pos = end
            self._message(flow, st, ts, msg, from_orig, emit)
        keep(buf, data, pos)
        if len(buf) > MAX_TCP_BUFFER:  # cannot happen in sync: a garbled stream
            self.errors["dns_malformed"] += 1
            buf.clear()

    def dropped(self, flow: Flow, st: _State, buf: bytearray, from_orig: bool,
                emit: EmitEvent) -> None:
        if len(buf) >= 2:  # pass over the rest of the message: in sync again after it
            if st.skip is None:
                st.skip = [0, 0]
            st.skip[0 if from_orig else 1] = 2 + ((buf[0] << 8) | buf[1]) - len(buf)

    def _message(self, flow: Flow, st: _State, ts: float, data: bytes, from_orig: bool,
                 emit: EmitEvent) -> None:
        try:
            msg = parse(data)
        except (Malformed, IndexError, ValueError):
            self.errors["dns_malformed"] += 1
            return
        pending = st.pending
        if pending:
            self._expire(flow, st, ts, emit)
        if not msg.response:
            if msg.id in pending:
                return  # a retransmission: the transaction began with the first copy
            if len(pending) >= MAX_PENDING:
                qid = next(iter(pending))
                emit(self.event(flow, pending.pop(qid), None))
            pending[msg.id] = (ts, msg, from_orig)
            return
        query = pending.pop(msg.id, None)
        if query is not None and query[2] == from_orig:  # same direction: not its answer
            pending[msg.id] = query
            query = None
        emit(self.event(flow, query, (ts, msg, from_orig)))

    def _expire(self, flow: Flow, st: _State, ts: float, emit: EmitEvent) -> None:
        pending = st.pending
        limit = ts - QUERY_TIMEOUT
        while pending:
            qid, q = next(iter(pending.items()))
            if q[0] > limit:
                break
            del pending[qid]
            emit(self.event(flow, q, None))

    def event(self, flow: Flow, query: tuple[float, Message, bool] | None,
              answer: tuple[float, Message, bool] | None) -> Event:
        if query is not None:
            ts, msg, q_orig = query
            client_is_orig = q_orig
        else:
            assert answer is not None
            ts, msg, a_orig = answer
            client_is_orig = not a_orig
        main = answer[1] if answer is not None else msg
        f = flow_fields(flow, client_is_orig)
        f.update({
            "event.category": ["network"],
            "event.type": ["protocol"],
            "event.action": "dns_query",
            "dns.id": msg.id,
            "dns.op_code": OPCODES.get(msg.opcode, str(msg.opcode)),
            "dns.header_flags": main.flags,
            "dns.type": "answer" if answer is not None else "query",
        })
        qmsg = msg if msg.qname is not None else main
        if qmsg.qname is not None:
            f["dns.question.name"] = qmsg.qname
            f["dns.question.type"] = type_name(qmsg.qtype)
            f["dns.question.class"] = class_name(qmsg.qclass)
        message = f"{qmsg.qname or '-'} {type_name(qmsg.qtype) if qmsg.qname else '-'}"
        if answer is not None:
            amsg = answer[1]
            rcode = rcode_name(amsg.rcode)
            f["dns.response_code"] = rcode
            if amsg.answers:
                f["dns.answers"] = amsg.answers
                f["dns.answers_count"] = len(amsg.answers)
            ips = [a["data"] for a in amsg.answers if a["type"] == "A" or a["type"] == "AAAA"]
            if ips:
                f["dns.resolved_ip"] = ips
            f["event.outcome"] = "success" if amsg.rcode == 0 else "failure"
            if query is not None:
                f["event.duration"] = duration_ns(ts, answer[0])
            message += f" -> {rcode} {len(amsg.answers)} answers"
        else:
            message += " (no answer)"
        return Event("dns", ts, f, message, self.source)

    def finish(self, flow: Flow, st: _State, emit: EmitEvent) -> None:
        for q in st.pending.values():
            emit(self.event(flow, q, None))
        st.pending.clear()
