"""Shared helpers of the protocol tests: scapy captures, TCP sessions, events by dataset."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from scapy.layers.inet import IP, TCP, UDP
from scapy.layers.l2 import Ether
from scapy.packet import Packet, Raw
from scapy.utils import wrpcap

from ronda.schema import Event
from sensor.net.source import PcapSource
from tests.sensor.net.helpers import T0, replay

CLIENT, SERVER = "192.0.2.10", "198.51.100.20"


def eth(pkt: Packet) -> Packet:
    return Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / pkt


def tcp_session(cport: int, sport: int, exchanges: list[tuple[bool, bytes]],
                t0: float = T0, client: str = CLIENT, server: str = SERVER,
                close: bool = True, step: float = 0.01) -> list[Packet]:
    """A TCP connection: handshake, then ``(from_client, payload)`` segments in order
    (sequence numbers right), then FIN/ACK both ways."""
    c_seq, s_seq = 1000, 50000
    t = t0
    out: list[Packet] = []

    def add(from_client: bool, flags: str, data: bytes = b"") -> None:
        nonlocal c_seq, s_seq, t
        if from_client:
            p = IP(src=client, dst=server) / TCP(sport=cport, dport=sport, flags=flags,
                                                 seq=c_seq, ack=s_seq)
        else:
            p = IP(src=server, dst=client) / TCP(sport=sport, dport=cport, flags=flags,
                                                 seq=s_seq, ack=c_seq)
        if data:
            p = p / Raw(data)
        pkt = eth(p)
        pkt.time = t
        t += step
        out.append(pkt)
        inc = len(data) + (1 if "S" in flags or "F" in flags else 0)
        if from_client:
            c_seq += inc
        else:
            s_seq += inc

    add(True, "S")
    add(False, "SA")
    add(True, "A")
    for from_client, data in exchanges:
        add(from_client, "PA", data)
    if close:
        add(True, "FA")
        add(False, "FA")
        add(True, "A")
    return out


def udp(src: str, dst: str, sport: int, dport: int, payload: bytes, t: float) -> Packet:
    p = eth(IP(src=src, dst=dst) / UDP(sport=sport, dport=dport) / Raw(payload))
    p.time = t
    return p


def run(tmp: Path, packets: list[Packet], **settings: Any) -> tuple[list[Event], PcapSource]:
    path = tmp / "cap.pcap"
    wrpcap(str(path), packets)
    settings.setdefault("protocols", ["dns", "http", "tls", "ssh"])
    return replay(path, tmp, **settings)


def of(events: list[Event], dataset: str) -> list[Event]:
    return [e for e in events if e.dataset == dataset]


def errors(src: PcapSource) -> dict[str, float]:
    out: dict[str, float] = {}
    for fam in src.ctx.metrics.registry.collect():
        for s in fam.samples:
            if s.name == "ronda_packets_decode_errors_total":
                out[s.labels["reason"]] = s.value
    return out
