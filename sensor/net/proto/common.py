"""What every protocol event shares: the flow's endpoints and network fields."""

from __future__ import annotations

from collections import Counter
from typing import Any

from sensor.net.flowevent import TRANSPORTS, flow_community_id, ip_text
from sensor.net.flowrecord import Flow

Errors = Counter[str]
SNIFF_PACKETS = 12  # a flow's protocol is looked for in its first packets only


def flow_fields(flow: Flow, client_is_orig: bool = True) -> dict[str, Any]:
    """``source.*`` (the client), ``destination.*`` (the server) and ``network.*``."""
    if client_is_orig:
        cip, sip, cport, sport = flow.orig_ip, flow.resp_ip, flow.orig_port, flow.resp_port
    else:
        cip, sip, cport, sport = flow.resp_ip, flow.orig_ip, flow.resp_port, flow.orig_port
    src = ip_text(cip)
    f: dict[str, Any] = {
        "event.kind": "event",
        "source.ip": src,
        "source.address": src,
        "source.port": cport,
        "destination.ip": ip_text(sip),
        "destination.port": sport,
        "network.transport": TRANSPORTS.get(flow.proto, str(flow.proto)),
        "network.type": "ipv4" if len(cip) == 4 else "ipv6",
        "network.community_id": flow_community_id(flow),
    }
    if flow.protocol:
        f["network.protocol"] = flow.protocol
    if flow.vlan:
        f["network.vlan.id"] = str(flow.vlan)
    return f


def duration_ns(start: float, end: float) -> int:
    """ECS ``event.duration``: nanoseconds, to the microsecond (as flow events)."""
    return max(0, round((end - start) * 1e6) * 1000)
