"""Streaming pcapng reader (section header, interface description, enhanced / simple /
obsolete packet blocks; every other block type is skipped by its length).

Each section header sets the byte order of its section and resets the interface list.
Interfaces give the link type, the snap length, the timestamp resolution
(``if_tsresol``, a power of 10 or of 2) and offset (``if_tsoffset``). Defects are counted
in ``errors``; a block whose length cannot be trusted ends the stream (the next block
cannot be found), a packet block that is inconsistent inside a sane length is skipped.
"""

from __future__ import annotations

import struct
from collections import Counter
from collections.abc import Iterator
from typing import IO

PCAPNG_MAGIC = b"\x0a\x0d\x0d\x0a"
SHB = 0x0A0D0D0A
IDB, OPB, SPB, EPB = 1, 2, 3, 6
BYTE_ORDER_MAGIC = 0x1A2B3C4D
CHUNK = 1 << 20
MAX_BLOCK = 1 << 24  # 16 MiB: larger block lengths mean a corrupt file

# (linktype, units per second, offset in seconds, snaplen)
Interface = tuple[int, float, int, int]
Record = tuple[float, int, bytes, int, int, int]


def _interface(block: bytes, pos: int, blen: int, endian: str) -> Interface:
    linktype, _, snaplen = struct.unpack_from(endian + "HHI", block, pos + 8)
    units, offset = 1e6, 0
    opt, end = pos + 16, pos + blen - 4
    while opt + 4 <= end:
        code, olen = struct.unpack_from(endian + "HH", block, opt)
        if code == 0:
            break
        val = opt + 4
        if val + olen > end:
            break
        if code == 9 and olen >= 1:  # if_tsresol
            res = block[val]
            exp = res & 0x7F
            units = float(2**exp) if res & 0x80 else 10.0**exp
        elif code == 14 and olen >= 8:  # if_tsoffset, seconds
            (offset,) = struct.unpack_from(endian + "q", block, val)
        opt = val + ((olen + 3) & ~3)
    return linktype, units, offset, snaplen


def read_pcapng(fh: IO[bytes], head: bytes, errors: Counter[str]) -> Iterator[Record]:
    """Packets of a pcapng stream whose first bytes (``head``) were already read; closes
    ``fh`` when done."""
    with fh:
        buf = head
        pos = 0
        endian = "<"
        hdr = struct.Struct("<II").unpack_from
        epb = struct.Struct("<IIIII").unpack_from
        ifaces: list[Interface] = []
        eof = False
        last_ts = 0.0
        while True:
            n = len(buf)
            if n - pos < 12 or (not eof and n - pos < 65536):
                if eof:
                    break
                more = fh.read(CHUNK)
                if not more:
                    eof = True
                buf = buf[pos:] + more
                pos = 0
                continue
            btype, blen = hdr(buf, pos)
            if btype == SHB:
                (bom,) = struct.unpack_from("<I", buf, pos + 8)
                if bom == BYTE_ORDER_MAGIC:
                    endian = "<"
                elif bom == 0x4D3C2B1A:
                    endian = ">"
                else:
                    errors["bad_block"] += 1
                    return
                hdr = struct.Struct(endian + "II").unpack_from
                epb = struct.Struct(endian + "IIIII").unpack_from
                btype, blen = hdr(buf, pos)
                ifaces = []
            if blen < 12 or blen % 4 or blen > MAX_BLOCK:
                errors["bad_block"] += 1
                return
            if pos + blen > n:
                if eof:
                    break
                more = fh.read(max(CHUNK, blen))
                if not more:
                    eof = True
                buf = buf[pos:] + more
                pos = 0
                continue
            if btype in (EPB, OPB):
                if blen < 32:
                    errors["bad_block"] += 1
                    pos += blen
                    continue
                if btype == EPB:
                    iface_id, hi, lo, caplen, wirelen = epb(buf, pos + 8)
                else:
                    iface_id, hi, lo, caplen, wirelen = struct.unpack_from(
                        endian + "HxxIIII", buf, pos + 8)
                if iface_id >= len(ifaces):
                    errors["bad_interface"] += 1
                elif 28 + caplen > blen - 4:
                    errors["bad_block"] += 1
                else:
                    linktype, units, offset, snaplen = ifaces[iface_id]
                    if snaplen and caplen > snaplen:
                        errors["caplen_exceeds_snaplen"] += 1
                    if wirelen < caplen:
                        errors["caplen_exceeds_wirelen"] += 1
                        wirelen = caplen
                    last_ts = ((hi << 32) | lo) / units + offset
                    yield last_ts, linktype, buf, pos + 28, caplen, wirelen
            elif btype == SPB:
                if not ifaces:
                    errors["bad_interface"] += 1
                else:
                    (wirelen,) = struct.unpack_from(endian + "I", buf, pos + 8)
                    linktype, _, _, snaplen = ifaces[0]
                    caplen = min(wirelen, blen - 16)
                    if snaplen:
                        caplen = min(caplen, snaplen)
                    # A simple packet block has no timestamp: it takes the last one seen.
                    yield last_ts, linktype, buf, pos + 12, caplen, wirelen
            elif btype == IDB:
                if blen < 20:
                    errors["bad_block"] += 1
                else:
                    ifaces.append(_interface(buf, pos, blen, endian))
            pos += blen
        if pos < len(buf):
            errors["truncated_record"] += 1
