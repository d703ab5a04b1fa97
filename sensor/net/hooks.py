"""Where protocol parsers (DNS, HTTP, TLS, SSH) and packet rules plug into the flow table.

An observer is called by the flow table for each packet of a flow, after the flow's
counters and TCP state are updated: for packets with captured payload only (the
default), or for every packet (``payload_only = False``, for rules on headers and flags).
It receives the flow, the packet's header fields, the direction and the captured payload
as a memoryview that is valid only during the call (copy what you keep). Events it makes
(``dns``, ``http``, ``tls``... or alert-worthy matches) go out through ``emit``, in the
same batches as the flow events. Per-flow parser state belongs in ``flow.ext[name]`` and
the detected application protocol in ``flow.protocol``: both live and die with the flow,
so they stay within the flow table's bound. ``on_flow_end`` is the last call for a flow,
before its ``network.flow`` event is made (to flush a pending transaction).

``flow.o_watch`` and ``flow.r_watch`` start at the number of observers; an observer that
needs no more packets of a flow (its parser is done, or the flow is not its protocol)
takes one off both (``flow.unwatch()``), once; one done with a direction only (the payload
sampler, one side full) takes one off that side's count. At 0 the table stops building the
packet view for that direction of the flow, which saves most of the cost of the bulk of
long flows (``on_flow_end`` is still called).

No TCP reassembly: the payload is each segment as captured, in arrival order.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from ronda.schema import Event
from sensor.net.flowrecord import Flow, Packet

EmitEvent = Callable[[Event], None]
__all__ = ["EmitEvent", "Flow", "FlowObserver", "Packet"]


class FlowObserver(Protocol):
    name: str
    payload_only: bool

    def on_packet(self, flow: Flow, pkt: Packet, from_orig: bool, payload: memoryview,
                  emit: EmitEvent) -> None:
        """One packet of ``flow``; ``payload`` is the captured transport payload."""
        ...

    def on_flow_end(self, flow: Flow, reason: str, emit: EmitEvent) -> None:
        """``flow`` ends (``reason``: end, idle, evicted, shutdown). Not called when an
        active timeout only cuts a record: the flow, and its ``ext`` state, go on."""
        ...
