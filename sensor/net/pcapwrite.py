"""Write classic pcap files, and build Ethernet/IP/TCP/UDP/ICMP frames as bytes.

Fast enough to make captures of millions of packets for benchmarks and tests (one
``struct.pack`` per header, no packet objects). Checksums are left zero: nothing in Ronda
checks them, and tshark does not by default.
"""

from __future__ import annotations

import struct
from typing import IO

_REC = struct.Struct("<IIII")
_ETH = struct.Struct("!6s6sH")
_IP4 = struct.Struct("!BBHHHBBH4s4s")
_IP6 = struct.Struct("!IHBB16s16s")
_TCP = struct.Struct("!HHIIBBHHH")
_UDP = struct.Struct("!HHHH")

MAC_A = b"\x02\x00\x00\x00\x00\x01"
MAC_B = b"\x02\x00\x00\x00\x00\x02"
FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10


class PcapWriter:
    """Classic little-endian pcap (microsecond or nanosecond timestamps)."""

    def __init__(self, fh: IO[bytes], linktype: int = 1, snaplen: int = 65535,
                 nano: bool = False) -> None:
        self.fh = fh
        self.snaplen = snaplen
        self.units = 1_000_000_000 if nano else 1_000_000
        magic = 0xA1B23C4D if nano else 0xA1B2C3D4
        fh.write(struct.pack("<IHHiIII", magic, 2, 4, 0, 0, snaplen, linktype))

    def write(self, ts: float, frame: bytes, wirelen: int | None = None) -> None:
        sec = int(ts)
        frac = round((ts - sec) * self.units)
        if frac >= self.units:
            sec, frac = sec + 1, frac - self.units
        cap = frame[:self.snaplen]
        self.fh.write(_REC.pack(sec, frac, len(cap), len(frame) if wirelen is None
                                else wirelen) + cap)


def ether(payload: bytes, etype: int = 0x0800, src: bytes = MAC_A,
          dst: bytes = MAC_B) -> bytes:
    return _ETH.pack(dst, src, etype) + payload


def vlan(payload: bytes, vid: int, etype: int = 0x0800, tpid: int = 0x8100) -> bytes:
    """An 802.1Q tag (to go after the MAC addresses, with ``ether(..., etype=tpid)``)."""
    return struct.pack("!HH", vid & 0xFFF, etype) + payload


def ipv4(src: bytes, dst: bytes, proto: int, payload: bytes, *, ttl: int = 64,
         ident: int = 0, frag: int = 0, total: int | None = None) -> bytes:
    tot = 20 + len(payload) if total is None else total
    return _IP4.pack(0x45, 0, tot, ident, frag, ttl, proto, 0, src, dst) + payload


def ipv6(src: bytes, dst: bytes, nxt: int, payload: bytes, hlim: int = 64) -> bytes:
    return _IP6.pack(0x60000000, len(payload), nxt, hlim, src, dst) + payload


def tcp(sport: int, dport: int, flags: int, payload: bytes = b"", *, seq: int = 0,
        ack: int = 0, window: int = 65535) -> bytes:
    return _TCP.pack(sport, dport, seq, ack, 5 << 4, flags, window, 0, 0) + payload


def udp(sport: int, dport: int, payload: bytes = b"") -> bytes:
    return _UDP.pack(sport, dport, 8 + len(payload), 0) + payload


def icmp(icmp_type: int, code: int = 0, payload: bytes = b"", ident: int = 0,
         seq: int = 0) -> bytes:
    return struct.pack("!BBHHH", icmp_type, code, 0, ident, seq) + payload
