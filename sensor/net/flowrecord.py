"""One bidirectional flow: its endpoints, counters, TCP state and what observers attach."""

from __future__ import annotations

from typing import Any

FlowKey = tuple[bytes, bytes, int, int, int]  # (lo addr, hi addr, lo port, hi port, proto)


class Flow:
    """A flow record. The originator is the endpoint that spoke first (or, by the usual
    heuristics, the one that should have: a SYN+ACK or a reply seen first is flipped).

    ``protocol`` (ECS ``network.protocol``), ``ext`` (per-observer state, keyed by the
    observer's name) and ``watch`` belong to the observers; they go away with the flow,
    so parser state is bounded by the flow table.
    """

    __slots__ = (
        "cid",
        "closing",
        "ext",
        "hbits",
        "hist",
        "icmp_code",
        "key",
        "last",
        "o_bytes",
        "o_pkts",
        "o_prev",
        "o_state",
        "o_watch",
        "oflags",
        "orig_ip",
        "orig_lo",
        "orig_port",
        "proto",
        "protocol",
        "r_bytes",
        "r_pkts",
        "r_prev",
        "r_state",
        "r_watch",
        "resp_ip",
        "resp_port",
        "start",
        "vlan",
    )

    def __init__(self, key: FlowKey, proto: int, orig_ip: bytes, resp_ip: bytes,
                 orig_port: int, resp_port: int, orig_lo: bool, ts: float, vlan: int) -> None:
        self.key = key
        self.proto = proto
        self.orig_ip = orig_ip
        self.resp_ip = resp_ip
        self.orig_port = orig_port
        self.resp_port = resp_port
        self.orig_lo = orig_lo  # the originator is the key's "lo" side
        self.start = ts
        self.last = ts
        self.o_pkts = self.o_bytes = self.r_pkts = self.r_bytes = 0
        self.o_state = self.r_state = self.o_prev = self.r_prev = 0
        self.hist = ""
        self.hbits = 0
        self.oflags = -1  # TCP: the flags of the originator's first segment (-1: not seen)
        self.vlan = vlan
        self.icmp_code = -1
        self.closing = False  # TCP: closed by FIN/RST, lingering for the last packets
        self.protocol = ""
        self.ext: dict[str, Any] | None = None
        # observers still wanting the packets the originator (o_) or the responder (r_)
        # sends; an observer done with a direction takes one off; at 0 the table stops
        # calling the observers for that direction (set by the table)
        self.o_watch = self.r_watch = 0
        self.cid = ""  # the Community ID, once computed

    @property
    def packets(self) -> int:
        return self.o_pkts + self.r_pkts

    @property
    def bytes(self) -> int:
        return self.o_bytes + self.r_bytes

    def unwatch(self) -> None:
        """An observer wants no more packets of this flow, either way."""
        self.o_watch -= 1
        self.r_watch -= 1

    def restart(self, ts: float) -> None:
        """Start a new record of a long-lived flow (after an active timeout): counters
        start over, TCP state and history carry on."""
        self.start = self.last = ts
        self.o_pkts = self.o_bytes = self.r_pkts = self.r_bytes = 0


class Packet:
    """The header fields of one packet, as an observer sees them (``sensor.net.hooks``).
    A plain class, compiled with the flow table: made once per observed packet."""

    __slots__ = ("dport", "dst", "ip_bytes", "payload_len", "proto", "sport", "src",
                 "tcp_flags", "ts", "vlan")

    def __init__(self, ts: float, proto: int, src: bytes, dst: bytes, sport: int,
                 dport: int, tcp_flags: int, ip_bytes: int, payload_len: int,
                 vlan: int) -> None:
        self.ts = ts
        self.proto = proto
        self.src = src  # packed address, 4 or 16 bytes
        self.dst = dst
        self.sport = sport  # ICMP: the type
        self.dport = dport  # ICMP: the code
        self.tcp_flags = tcp_flags
        self.ip_bytes = ip_bytes
        self.payload_len = payload_len  # as the headers declare it (may exceed the capture)
        self.vlan = vlan

    def __repr__(self) -> str:
        return (f"Packet(ts={self.ts!r}, proto={self.proto}, src={self.src!r}, "
                f"dst={self.dst!r}, sport={self.sport}, dport={self.dport}, "
                f"tcp_flags={self.tcp_flags}, ip_bytes={self.ip_bytes}, "
                f"payload_len={self.payload_len}, vlan={self.vlan})")
