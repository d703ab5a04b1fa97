"""A finished flow as an ECS ``network.flow`` Event."""

from __future__ import annotations

import math
import socket
import time
from typing import Any

from ronda.schema import Event
from sensor.net.communityid import community_id
from sensor.net.flowrecord import Flow
from sensor.net.payload import take_sample
from sensor.net.tcpstate import conn_state

DATASET = "network.flow"
TRANSPORTS = {1: "icmp", 2: "igmp", 4: "ipv4", 6: "tcp", 17: "udp", 41: "ipv6", 47: "gre",
              50: "esp", 51: "ah", 58: "ipv6-icmp", 89: "ospf", 103: "pim", 112: "vrrp",
              132: "sctp"}


_NTOP = socket.inet_ntop
_AF4, _AF6 = socket.AF_INET, socket.AF_INET6
_TEXTS: dict[bytes, str] = {}  # a site's addresses recur: formatted once (bounded)
MAX_TEXTS = 65536
_MS = [f"{i:03d}" for i in range(1000)]


def ip_text(addr: bytes) -> str:
    text = _TEXTS.get(addr)
    if text is None:
        if len(_TEXTS) >= MAX_TEXTS:
            _TEXTS.clear()
        text = _TEXTS[addr] = _NTOP(_AF4 if len(addr) == 4 else _AF6, addr)
    return text


def flow_state(flow: Flow) -> str:
    """Zeek's conn_state: TCP from the endpoint states, UDP from who spoke."""
    if flow.proto == 6:
        return conn_state(flow)
    if flow.proto == 17:
        if flow.o_pkts:
            return "SF" if flow.r_pkts else "S0"
        return "SHR" if flow.r_pkts else "OTH"
    return "OTH"


def flow_community_id(flow: Flow) -> str:
    """The flow's Community ID, computed once (flow and protocol events all carry it)."""
    cid = flow.cid
    if not cid:
        cid = flow.cid = community_id(flow.orig_ip, flow.resp_ip, flow.proto,
                                      flow.orig_port, flow.resp_port)
    return cid


class IsoTime:
    """``ronda.schema.iso_time`` (RFC 3339 UTC, milliseconds) with whole seconds cached:
    flows end in bursts, and formatting a datetime costs microseconds."""

    def __init__(self, size: int = 4096) -> None:
        self._cache: dict[int, str] = {}
        self._size = size

    def __call__(self, ts: float) -> str:
        sec = math.floor(ts)
        us = round((ts - sec) * 1e6)  # as datetime.fromtimestamp rounds
        if us >= 1_000_000:
            sec, us = sec + 1, us - 1_000_000
        prefix = self._cache.get(sec)
        if prefix is None:
            if len(self._cache) >= self._size:
                self._cache.clear()
            try:
                prefix = time.strftime("%Y-%m-%dT%H:%M:%S.", time.gmtime(sec))
            except (OverflowError, OSError, ValueError):  # a timestamp out of range
                prefix = "1970-01-01T00:00:00."
            self._cache[sec] = prefix
        return prefix + _MS[us // 1000] + "Z"


class FlowEvents:
    """Makes ``network.flow`` events for one source."""

    def __init__(self, source: str = "") -> None:
        self.source = source
        self.iso = IsoTime()

    def __call__(self, flow: Flow, reason: str) -> Event:
        return flow_event(flow, reason, self.source, self.iso)


def flow_event(flow: Flow, reason: str, source: str = "",
               iso: IsoTime | None = None) -> Event:
    iso_time = iso or IsoTime()
    proto = flow.proto
    transport = TRANSPORTS.get(proto, str(proto))
    src, dst = ip_text(flow.orig_ip), ip_text(flow.resp_ip)
    state = flow_state(flow)
    f: dict[str, Any] = {
        "event.kind": "event",
        "event.category": ["network"],
        "event.type": ["connection"],
        "event.action": "network_flow",
        "event.reason": reason,
        "event.start": iso_time(flow.start),
        "event.end": iso_time(flow.last),
        # nanoseconds, to the microsecond: float epoch seconds carry no finer time
        "event.duration": round((flow.last - flow.start) * 1e6) * 1000,
        "source.ip": src,
        "source.bytes": flow.o_bytes,
        "source.packets": flow.o_pkts,
        "destination.ip": dst,
        "destination.bytes": flow.r_bytes,
        "destination.packets": flow.r_pkts,
        "network.transport": transport,
        "network.type": "ipv4" if len(flow.orig_ip) == 4 else "ipv6",
        "network.iana_number": str(proto),
        "network.bytes": flow.o_bytes + flow.r_bytes,
        "network.packets": flow.o_pkts + flow.r_pkts,
        "network.community_id": flow_community_id(flow),
        "ronda.flow.state": state,
        "ronda.flow.history": flow.hist,
    }
    if proto == 1 or proto == 58:
        f["ronda.icmp.type"] = flow.orig_port
        if flow.icmp_code >= 0:
            f["ronda.icmp.code"] = flow.icmp_code
        where = f"{src} -> {dst} type {flow.orig_port}"
    elif proto == 6 or proto == 17 or proto == 132:
        f["source.port"] = flow.orig_port
        f["destination.port"] = flow.resp_port
        sep = "]:" if ":" in src else ":"
        where = (f"{'[' if sep == ']:' else ''}{src}{sep}{flow.orig_port} -> "
                 f"{'[' if sep == ']:' else ''}{dst}{sep}{flow.resp_port}")
    else:
        where = f"{src} -> {dst}"
    if proto == 6 and flow.oflags >= 0:
        f["ronda.flow.orig_flags"] = flow.oflags  # for scan types (FIN, NULL, XMAS)
    if flow.protocol:
        f["network.protocol"] = flow.protocol
    if flow.vlan:
        f["network.vlan.id"] = str(flow.vlan)
    if flow.ext is not None:
        sample = take_sample(flow)
        if sample is not None:
            f["ronda.payload.to_server"], f["ronda.payload.to_client"] = sample
    message = (f"{transport} {where} {state} {flow.hist or '-'} "
               f"{flow.o_pkts + flow.r_pkts} pkts {flow.o_bytes + flow.r_bytes} bytes ({reason})")
    return Event(DATASET, flow.last, f, message, source)
