"""Packet headers from raw bytes: link layer, VLAN tags, IPv4, IPv6, TCP, UDP, ICMP.

The hot path: no object per packet beyond one tuple, every read bounded by the captured
length, every length field checked against what the wire carried. A decoder returns either
the decoded tuple (``Decoded``) or a short reason string: a defect (``DECODE_ERRORS``) or a
well-formed packet the flow table does not track (``SKIPPED``: not IP; IP fragments after
the first, which are not reassembled).

``Decoded`` is ``(proto, src, dst, sport, dport, tcp_flags, ip_bytes, payload_len,
payload_start, payload_end, vlan, buf)``: addresses as packed bytes (4 or 16), ICMP type and
code in the port slots, ``ip_bytes`` the IP datagram's length on the wire, ``payload_len``
the transport payload length the headers declare, ``buf[payload_start:payload_end]`` the
part of that payload that was captured (``buf`` is the reader's buffer, not a copy),
``vlan`` the outermost 802.1Q id (0: none).
"""

from __future__ import annotations

import struct
from collections.abc import Callable

Decoded = tuple[int, bytes, bytes, int, int, int, int, int, int, int, int, bytes]
Result = Decoded | str
Decoder = Callable[[bytes, int, int, int], Result]

NOT_IP = "not_ip"
FRAGMENT = "ip_fragment"
SKIPPED = frozenset({NOT_IP, FRAGMENT})
DECODE_ERRORS = (
    "truncated_link", "truncated_ip", "bad_ip_version", "bad_ihl", "bad_ip_length",
    "bad_ipv6_ext", "truncated_tcp", "bad_tcp_offset", "truncated_udp", "bad_udp_length",
    "truncated_icmp", "unknown_linktype",
)

ETH_IP4, ETH_IP6 = 0x0800, 0x86DD
VLAN_TYPES = (0x8100, 0x88A8, 0x9100)
MAX_VLAN_TAGS = 4
MAX_IPV6_EXT = 8
# IPv6 extension headers we step over (hop-by-hop, routing, destination options, AH,
# mobility, HIP, shim6); the fragment header (44) is handled apart.
IPV6_EXT = frozenset({0, 43, 60, 51, 135, 139, 140})

_IP4 = struct.Struct("!2xH2xH1xB2x4s4s").unpack_from  # total len, frag, proto, src, dst
_TCP = struct.Struct("!HH8xH").unpack_from  # sport, dport, offset/flags
_UDP = struct.Struct("!HHH").unpack_from  # sport, dport, length


def transport(buf: bytes, p: int, end: int, l4len: int, proto: int, src: bytes, dst: bytes,
              iplen: int, vlan: int, whole: bool) -> Result:
    """The transport header at ``buf[p:end]`` (captured), ``l4len`` bytes on the wire.
    ``whole`` is False for a first fragment, which holds only part of the datagram."""
    if proto == 6:
        if end - p < 20:
            return "truncated_tcp"
        sport, dport, offflags = _TCP(buf, p)
        hl = (offflags >> 12) << 2
        if hl < 20 or hl > l4len:
            return "bad_tcp_offset"
        q = p + hl
        return (6, src, dst, sport, dport, offflags & 0xFF, iplen, l4len - hl, q,
                end if end > q else q, vlan, buf)
    if proto == 17:
        if end - p < 8:
            return "truncated_udp"
        sport, dport, ulen = _UDP(buf, p)
        if whole:
            if ulen < 8 or ulen > l4len:
                return "bad_udp_length"
            q = p + ulen
            if q < end:  # trailing bytes after the datagram (padding)
                end = q
        else:
            ulen = l4len
        return 17, src, dst, sport, dport, 0, iplen, ulen - 8, p + 8, end, vlan, buf
    if proto == 1 or proto == 58:
        if end - p < 2:
            return "truncated_icmp"
        q = p + 8
        return (proto, src, dst, buf[p], buf[p + 1], 0, iplen,
                l4len - 8 if l4len > 8 else 0, q, end if end > q else q, vlan, buf)
    return proto, src, dst, 0, 0, 0, iplen, l4len, p, end, vlan, buf


def ipv4(buf: bytes, p: int, end: int, wire: int, vlan: int) -> Result:
    """An IPv4 datagram at ``buf[p:end]``; ``wire`` bytes from ``p`` were on the wire."""
    if end - p < 20:
        return "truncated_ip"
    vihl = buf[p]
    if vihl >> 4 != 4:
        return "bad_ip_version"
    ihl = (vihl & 15) << 2
    if ihl < 20:
        return "bad_ihl"
    tot, frag, proto, src, dst = _IP4(buf, p)
    if tot == 0:  # segmentation offload: the sending host's capture leaves it empty
        tot = wire
    if tot < ihl or tot > wire:
        return "bad_ip_length"
    if end - p < ihl:
        return "truncated_ip"
    if frag & 0x1FFF:
        return FRAGMENT
    ip_end = p + tot
    return transport(buf, p + ihl, ip_end if ip_end < end else end, tot - ihl, proto,
                     src, dst, tot, vlan, not frag & 0x2000)


def ipv6(buf: bytes, p: int, end: int, wire: int, vlan: int) -> Result:
    """An IPv6 datagram at ``buf[p:end]``, stepping over extension headers."""
    if end - p < 40:
        return "truncated_ip"
    if buf[p] >> 4 != 6:
        return "bad_ip_version"
    plen = (buf[p + 4] << 8) | buf[p + 5]
    nxt = buf[p + 6]
    if plen == 0:  # jumbogram or segmentation offload
        plen = wire - 40
    tot = 40 + plen
    if tot > wire or plen < 0:
        return "bad_ip_length"
    src = buf[p + 8:p + 24]
    dst = buf[p + 24:p + 40]
    q = p + 40
    ip_end = p + tot
    if ip_end < end:
        end = ip_end
    whole = True
    hops = 0
    while nxt in IPV6_EXT or nxt == 44:
        hops += 1
        if hops > MAX_IPV6_EXT or end - q < 8:
            return "bad_ipv6_ext"
        if nxt == 44:
            if ((buf[q + 2] << 8) | buf[q + 3]) & 0xFFF8:
                return FRAGMENT
            whole = not buf[q + 3] & 1
            nxt = buf[q]
            q += 8
            continue
        hl = (buf[q + 1] + 2) << 2 if nxt == 51 else (buf[q + 1] + 1) << 3
        nxt = buf[q]
        q += hl
        if q > ip_end:
            return "bad_ipv6_ext"
    return transport(buf, q, end, ip_end - q, nxt, src, dst, tot, vlan, whole)


def _network(buf: bytes, p: int, end: int, wire: int, etype: int) -> Result:
    """What follows an EtherType at ``p``: VLAN tags, then IPv4 or IPv6."""
    vlan = 0
    tags = 0
    while etype in VLAN_TYPES:
        tags += 1
        if end - p < 4 or tags > MAX_VLAN_TAGS:
            return "truncated_link"
        if not vlan:
            vlan = ((buf[p] << 8) | buf[p + 1]) & 0xFFF
        etype = (buf[p + 2] << 8) | buf[p + 3]
        p += 4
        wire -= 4
    if etype == ETH_IP4:
        return ipv4(buf, p, end, wire, vlan)
    if etype == ETH_IP6:
        return ipv6(buf, p, end, wire, vlan)
    return NOT_IP


def ethernet(buf: bytes, off: int, caplen: int, wirelen: int) -> Result:
    b, o = buf, off
    if (caplen >= 48 and b[o + 12] == 8 and b[o + 13] == 0 and b[o + 14] == 0x45
            and not (b[o + 20] & 0x3F or b[o + 21])):
        # The common case, read byte by byte (compiled, that is the fastest way): Ethernet,
        # IPv4 without options, not a fragment, TCP or UDP. Anything else (or anything
        # odd) takes the general path below, which also names the defect.
        tot = (b[o + 16] << 8) | b[o + 17]
        proto = b[o + 23]
        if 20 < tot <= wirelen - 14 and (proto == 6 or proto == 17):
            end = o + caplen
            ip_end = o + 14 + tot
            if ip_end < end:
                end = ip_end
            if proto == 6:
                hl = (b[o + 46] >> 4) << 2
                if caplen >= 54 and 20 <= hl <= tot - 20:
                    q = o + 34 + hl
                    return (6, b[o + 26:o + 30], b[o + 30:o + 34], (b[o + 34] << 8) | b[o + 35],
                            (b[o + 36] << 8) | b[o + 37], b[o + 47], tot, tot - 20 - hl, q,
                            end if end > q else q, 0, buf)
            else:
                ulen = (b[o + 38] << 8) | b[o + 39]
                if 8 <= ulen <= tot - 20:
                    q = o + 34 + ulen
                    return (17, b[o + 26:o + 30], b[o + 30:o + 34], (b[o + 34] << 8) | b[o + 35],
                            (b[o + 36] << 8) | b[o + 37], 0, tot, ulen - 8, o + 42,
                            q if q < end else end, 0, buf)
    end = off + caplen
    if caplen < 14:
        return "truncated_link"
    etype = (buf[off + 12] << 8) | buf[off + 13]
    p = off + 14
    if etype == ETH_IP4:  # the common case, without the VLAN loop
        return ipv4(buf, p, end, wirelen - 14, 0)
    return _network(buf, p, end, wirelen - 14, etype)


def raw_ip(buf: bytes, off: int, caplen: int, wirelen: int) -> Result:
    if caplen < 1:
        return "truncated_ip"
    version = buf[off] >> 4
    if version == 4:
        return ipv4(buf, off, off + caplen, wirelen, 0)
    if version == 6:
        return ipv6(buf, off, off + caplen, wirelen, 0)
    return "bad_ip_version"


def linux_sll(buf: bytes, off: int, caplen: int, wirelen: int) -> Result:
    """Linux cooked capture v1: 16-byte header, protocol (EtherType) at byte 14."""
    if caplen < 16:
        return "truncated_link"
    return _network(buf, off + 16, off + caplen, wirelen - 16,
                    (buf[off + 14] << 8) | buf[off + 15])


def linux_sll2(buf: bytes, off: int, caplen: int, wirelen: int) -> Result:
    """Linux cooked capture v2: 20-byte header, protocol (EtherType) first."""
    if caplen < 20:
        return "truncated_link"
    return _network(buf, off + 20, off + caplen, wirelen - 20,
                    (buf[off] << 8) | buf[off + 1])


def null_loopback(buf: bytes, off: int, caplen: int, wirelen: int) -> Result:
    """BSD loopback: a 4-byte address family in either byte order (2: IPv4; 10, 24, 28,
    30: IPv6 on the various systems)."""
    if caplen < 4:
        return "truncated_link"
    family = buf[off] | buf[off + 3]
    if family == 2:
        return ipv4(buf, off + 4, off + caplen, wirelen - 4, 0)
    if family in (10, 24, 28, 30):
        return ipv6(buf, off + 4, off + caplen, wirelen - 4, 0)
    return NOT_IP


def unknown_link(buf: bytes, off: int, caplen: int, wirelen: int) -> Result:
    return "unknown_linktype"


def decoder_for(linktype: int) -> Decoder:
    """The decoder of a pcap link type (unknown types decode to an error, counted)."""
    if linktype == 1:
        return ethernet
    if linktype in (101, 228, 229, 12, 14):
        return raw_ip
    if linktype == 113:
        return linux_sll
    if linktype == 276:
        return linux_sll2
    if linktype in (0, 108):
        return null_loopback
    return unknown_link
