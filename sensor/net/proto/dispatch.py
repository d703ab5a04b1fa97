"""One observer in front of the protocol parsers: the flow table calls it once per packet,
and it calls only the parser that claimed the flow (or, while no parser has, the ``sniff``
of each parser that can take the flow's transport, in turn, for the first
``SNIFF_PACKETS`` packets of the flow). Packets of flows no parser wants cost one
attribute check and one comparison; while sniffed, a look at the first byte and the ports
(the parsers' ``first_bytes`` and ``ports``) and, only if one may want it, their
``sniff``; once the parser is done with a flow (``FlowState.done``), one dict look-up.
When the parser is done, or the sniffing window passed without a parser, the dispatcher
takes itself off the flow's watch counts (``flow.unwatch()``, once), so the flow table
stops calling it for the flow."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sensor.net.flowrecord import Flow
from sensor.net.hooks import EmitEvent, Packet
from sensor.net.proto.base import ProtocolParser
from sensor.net.proto.buffers import Budget
from sensor.net.proto.common import SNIFF_PACKETS

Sniffers = tuple[tuple[Callable[[Flow, memoryview], bool], ProtocolParser[Any]], ...]
# for one transport: the first bytes and ports that may interest a parser (bytes None:
# any packet may), and the parsers' sniff in turn
Sniffing = tuple[frozenset[int] | None, frozenset[int], Sniffers]


def _sniffing(parsers: Sequence[ProtocolParser[Any]], proto: int) -> Sniffing:
    mine = [p for p in parsers if p.transports is None or proto in p.transports]
    first: frozenset[int] | None = frozenset()
    ports: frozenset[int] = frozenset()
    for p in mine:
        first = None if first is None or p.first_bytes is None else first | p.first_bytes
        ports |= p.ports
    return first, ports, tuple((p.sniff, p) for p in mine)


class ProtocolDispatch:
    name = "proto"
    payload_only = True

    def __init__(self, parsers: Sequence[ProtocolParser[Any]],
                 budget: Budget | None = None) -> None:
        self.parsers = tuple(parsers)
        self.by_protocol = {p.name: p for p in parsers}
        self.budget = budget  # the buffer budget the parsers share (``budget.used``)
        self._sniffing = {6: _sniffing(parsers, 6), 17: _sniffing(parsers, 17)}
        self._other = _sniffing(parsers, -1)

    def on_packet(self, flow: Flow, pkt: Packet, from_orig: bool, payload: memoryview,
                  emit: EmitEvent) -> None:
        protocol = flow.protocol
        if protocol:
            parser = self.by_protocol.get(protocol)
            if parser is not None:
                ext = flow.ext
                st = ext.get(protocol) if ext else None
                if st is not None and not st.done:
                    parser.take(flow, st, pkt, from_orig, payload, emit)
                    if st.done:
                        flow.unwatch()  # the parser has all it wants of this flow
            return
        ext = flow.ext
        if ext is not None and self.name in ext:
            return  # given up on (sticky: an active-timeout cut restarts the counts)
        if flow.o_pkts + flow.r_pkts > SNIFF_PACKETS:
            if ext is None:
                flow.ext = {self.name: False}
            else:
                ext[self.name] = False
            flow.unwatch()  # no parser's protocol: this flow is not watched any more
            return
        first, ports, sniffers = self._sniffing.get(flow.proto, self._other)
        if (first is not None and (not payload or payload[0] not in first)
                and flow.resp_port not in ports and flow.orig_port not in ports):
            return  # no parser could want it
        for sniff, parser in sniffers:
            if sniff(flow, payload):
                st = parser.claim(flow, pkt, from_orig)
                parser.take(flow, st, pkt, from_orig, payload, emit)
                if st.done:
                    flow.unwatch()
                return

    def on_flow_end(self, flow: Flow, reason: str, emit: EmitEvent) -> None:
        if flow.ext is not None:
            parser = self.by_protocol.get(flow.protocol)
            if parser is not None:
                parser.on_flow_end(flow, reason, emit)
