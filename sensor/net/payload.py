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
    __slots__ = ("done", "orig", "resp", "taken")

    def __init__(self) -> None:
        self.orig = bytearray()
        self.resp = bytearray()
        self.taken = False  # attached to a flow record: later bytes are not the first ones
        self.done = False  # nothing more to take (and the flow's ``watch`` counted down)


class PayloadSampler:
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
        elif sample.done:
            return
        limit = self.limit
        if not sample.taken:
            buf = sample.orig if from_orig else sample.resp
            room = limit - len(buf)
            if room > 0:
                buf += payload[:room]
        if sample.taken or (len(sample.orig) >= limit and len(sample.resp) >= limit):
            sample.done = True
            flow.watch -= 1

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
