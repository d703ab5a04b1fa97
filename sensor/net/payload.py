"""A bounded payload sample per flow direction, for payload rules (``netrules``).

The first ``limit`` bytes each side sends (segments in arrival order, no reassembly:
a retransmission repeats its bytes) are kept in ``flow.ext["payload"]``; the flow event
carries them as ``ronda.payload.to_server`` (originator) and ``ronda.payload.to_client``
(responder), like Suricata's stream depth. Off unless the source's ``payload_bytes`` > 0.
"""

from __future__ import annotations

from sensor.net.flowrecord import Flow
from sensor.net.hooks import EmitEvent, Packet

KEY = "payload"


class PayloadSample:
    __slots__ = ("o_done", "orig", "r_done", "resp", "taken")

    def __init__(self) -> None:
        self.orig = bytearray()
        self.resp = bytearray()
        self.taken = False  # attached to a flow record: later bytes are not the first ones
        # a side is full (or the sample was taken): the side's watch count is down by one
        self.o_done = self.r_done = False


class PayloadSampler:
    """Samples the first ``limit`` bytes of each side; a full side stops being watched
    (the flow table then skips that side's packets when no parser wants them either:
    a download's bulk costs nothing once the responder's sample is full)."""

    name = "payload"
    payload_only = True

    def __init__(self, limit: int) -> None:
        self.limit = limit

    def on_packet(self, flow: Flow, pkt: Packet, from_orig: bool, payload: memoryview,
                  emit: EmitEvent) -> None:
        ext = flow.ext
        if ext is None:
            ext = flow.ext = {}
        sample: PayloadSample | None = ext.get(KEY)
        if sample is None:
            sample = ext[KEY] = PayloadSample()
        if sample.taken:  # an active-timeout cut took it: nothing more, either side
            if not sample.o_done:
                sample.o_done = True
                flow.o_watch -= 1
            if not sample.r_done:
                sample.r_done = True
                flow.r_watch -= 1
            return
        limit = self.limit
        if from_orig:
            if sample.o_done:
                return  # (a parser still watches this side)
            buf = sample.orig
            room = limit - len(buf)
            if room > 0:
                buf += payload[:room]
            if len(buf) >= limit:
                sample.o_done = True
                flow.o_watch -= 1
        else:
            if sample.r_done:
                return
            buf = sample.resp
            room = limit - len(buf)
            if room > 0:
                buf += payload[:room]
            if len(buf) >= limit:
                sample.r_done = True
                flow.r_watch -= 1

    def on_flow_end(self, flow: Flow, reason: str, emit: EmitEvent) -> None:
        pass


def take_sample(flow: Flow) -> tuple[bytes, bytes] | None:
    """The flow's sample for its record (once), or None."""
    ext = flow.ext
    if ext is None:
        return None
    sample: PayloadSample | None = ext.get(KEY)
    if sample is None or sample.taken:
        return None
    sample.taken = True
    return bytes(sample.orig), bytes(sample.resp)
