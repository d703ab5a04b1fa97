"""The skeleton every protocol parser shares: sniffing and claiming a flow, its state in
``flow.ext[name]``, a buffer per direction held to the shared byte budget, and the end of
the flow. A parser says only what is its own: ``sniff`` (is this packet the start of my
protocol?), ``new_state``, ``feed`` (one packet of a claimed flow), ``dropped`` (the budget
took the message being buffered) and ``finish`` (the flow ends: flush what is pending).
"""

from __future__ import annotations

from typing import Any, ClassVar, Generic, TypeVar

from sensor.net.flowrecord import Flow
from sensor.net.hooks import EmitEvent, Packet
from sensor.net.proto.buffers import Budget
from sensor.net.proto.common import SNIFF_PACKETS, Errors

TCP = frozenset({6})


class FlowState:
    """A parser's state for one flow: a buffer per direction (originator, responder) and
    ``done``, set when the parser wants no more packets of the flow."""

    __slots__ = ("bufs", "done")

    def __init__(self) -> None:
        self.bufs = (bytearray(), bytearray())
        self.done = False


S = TypeVar("S", bound=FlowState)


class ProtocolParser(Generic[S]):
    """A ``FlowObserver`` for one protocol. ``transports``: the IP protocols it may claim
    a flow of (None: any); ``sniff`` must be False for others, and for packets that
    ``first_bytes`` and ``ports`` rule out."""

    name = ""
    payload_only = True
    transports: ClassVar[frozenset[int] | None] = TCP
    # what ``ProtocolDispatch`` checks before ``sniff``: it can be True only when the
    # payload's first byte is in ``first_bytes`` or a port of the flow in ``ports``
    # (``first_bytes`` None: for any packet)
    first_bytes: ClassVar[frozenset[int] | None] = None
    ports: ClassVar[frozenset[int]] = frozenset()

    def __init__(self, source: str = "", errors: Errors | None = None,
                 budget: Budget | None = None) -> None:
        self.source = source
        self.errors: Errors = errors if errors is not None else Errors()
        self.budget = budget if budget is not None else Budget(errors=self.errors)

    def sniff(self, flow: Flow, payload: memoryview) -> bool:
        """Does this packet (of a flow no parser has claimed yet) make the flow mine?"""
        raise NotImplementedError

    def new_state(self, flow: Flow, pkt: Packet, from_orig: bool) -> S:
        raise NotImplementedError

    def feed(self, flow: Flow, st: S, buf: bytearray, pkt: Packet, from_orig: bool,
             payload: memoryview, emit: EmitEvent) -> None:
        """One packet of a flow of mine; ``buf`` is the buffer of its direction (the only
        one ``feed`` may change), held to the budget when ``feed`` returns."""
        raise NotImplementedError

    def dropped(self, flow: Flow, st: S, buf: bytearray, from_orig: bool,
                emit: EmitEvent) -> None:
        """The budget is spent: the message in ``buf`` goes (cleared after this call)."""

    def finish(self, flow: Flow, st: S, emit: EmitEvent) -> None:
        """The flow ends (its buffers are already given back)."""

    def on_packet(self, flow: Flow, pkt: Packet, from_orig: bool, payload: memoryview,
                  emit: EmitEvent) -> None:
        """(``ProtocolDispatch`` calls ``sniff``, ``claim`` and ``take`` itself.)"""
        st: S | None
        if flow.protocol != self.name:
            if (flow.protocol or flow.o_pkts + flow.r_pkts > SNIFF_PACKETS
                    or not self.sniff(flow, payload)):
                return
            st = self.claim(flow, pkt, from_orig)
        else:
            ext = flow.ext
            st = ext.get(self.name) if ext else None
            if st is None or st.done:
                return
        self.take(flow, st, pkt, from_orig, payload, emit)

    def claim(self, flow: Flow, pkt: Packet, from_orig: bool) -> S:
        """The flow is mine (``sniff`` said so): its protocol and new state."""
        name = flow.protocol = self.name
        st = self.new_state(flow, pkt, from_orig)
        if flow.ext is None:
            flow.ext = {name: st}
        else:
            flow.ext[name] = st
        return st

    def take(self, flow: Flow, st: S, pkt: Packet, from_orig: bool, payload: memoryview,
             emit: EmitEvent) -> None:
        """One packet of a flow of mine that I am not done with: ``feed``, then hold its
        buffer to the budget."""
        buf = st.bufs[0 if from_orig else 1]
        before = len(buf)
        failed = True
        try:
            self.feed(flow, st, buf, pkt, from_orig, payload, emit)
            failed = False
        finally:
            kept = len(buf) == before or self.budget.settle(buf, before)
            if not kept and failed:
                buf.clear()  # settle took its bytes off already: never given back twice
        if not kept:
            try:
                self.dropped(flow, st, buf, from_orig, emit)
            finally:
                buf.clear()
        if st.done and (st.bufs[0] or st.bufs[1]):
            self.budget.release(*st.bufs)

    def on_flow_end(self, flow: Flow, reason: str, emit: EmitEvent) -> None:
        ext: dict[str, Any] | None = flow.ext
        st: S | None = None if ext is None else ext.get(self.name)
        if st is not None:
            bufs = st.bufs
            if bufs[0] or bufs[1]:
                self.budget.release(*bufs)
            self.finish(flow, st, emit)
