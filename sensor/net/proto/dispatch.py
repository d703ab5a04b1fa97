"""One observer in front of the protocol parsers: the flow table calls it once per packet,
and it calls only the parser that claimed the flow (or, while no parser has, each one in
turn, for the first ``SNIFF_PACKETS`` packets of the flow). Packets of flows no parser
wants cost one attribute check and one comparison."""

from __future__ import annotations

from collections.abc import Sequence

from sensor.net.flowrecord import Flow
from sensor.net.hooks import EmitEvent, FlowObserver, Packet
from sensor.net.proto.common import SNIFF_PACKETS


class ProtocolDispatch:
    name = "proto"
    payload_only = True

    def __init__(self, parsers: Sequence[FlowObserver]) -> None:
        self.parsers = tuple(parsers)
        self.by_protocol = {p.name: p for p in parsers}

    def on_packet(self, flow: Flow, pkt: Packet, from_orig: bool, payload: memoryview,
                  emit: EmitEvent) -> None:
        protocol = flow.protocol
        if protocol:
            parser = self.by_protocol.get(protocol)
            if parser is not None:
                parser.on_packet(flow, pkt, from_orig, payload, emit)
            return
        if flow.o_pkts + flow.r_pkts > SNIFF_PACKETS:
            return
        for parser in self.parsers:
            parser.on_packet(flow, pkt, from_orig, payload, emit)
            if flow.protocol:
                return

    def on_flow_end(self, flow: Flow, reason: str, emit: EmitEvent) -> None:
        if flow.ext is not None:
            parser = self.by_protocol.get(flow.protocol)
            if parser is not None:
                parser.on_flow_end(flow, reason, emit)
