"""Streaming readers for capture files: classic pcap here, pcapng in ``pcapng``.

A reader yields one tuple per packet, without copying the packet out of its read buffer:
``(ts, linktype, buf, offset, caplen, wirelen)`` where the packet is
``buf[offset:offset + caplen]``. Defects in the file are counted in ``errors`` (reason ->
count) and never raise: a record cut short by the end of the file ends the stream; a
record header that cannot be trusted (a capture length past every sane bound) ends it too,
since the next record cannot be found. Only a file that is not a capture at all raises
``NotACapture`` before the first packet.
"""

from __future__ import annotations

import gzip
import struct
import zlib
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from sensor.net.pcapng import PCAPNG_MAGIC, read_pcapng

CHUNK = 1 << 20
MAX_RECORD = 262_144  # libpcap's MAXIMUM_SNAPLEN: larger records mean a corrupt file

# (ts, linktype, buf, offset, caplen, wirelen)
Record = tuple[float, int, bytes, int, int, int]

_CLASSIC = {
    b"\xd4\xc3\xb2\xa1": ("<", 1e6),
    b"\xa1\xb2\xc3\xd4": (">", 1e6),
    b"\x4d\x3c\xb2\xa1": ("<", 1e9),
    b"\xa1\xb2\x3c\x4d": (">", 1e9),
}


class NotACapture(ValueError):
    """The file is neither a pcap nor a pcapng file."""


def capture_format(path: Path) -> str | None:
    """``"pcap"``, ``"pcapng"`` (possibly gzip-compressed) or None, from the magic."""
    try:
        with _open(path) as fh:
            magic = fh.read(4)
    except (OSError, EOFError, zlib.error):  # unreadable, or corrupt compressed data
        return None
    if magic in _CLASSIC:
        return "pcap"
    if magic == PCAPNG_MAGIC:
        return "pcapng"
    return None


def _open(path: Path) -> IO[bytes]:
    with open(path, "rb") as probe:
        gz = probe.read(2) == b"\x1f\x8b"
    if gz:
        return gzip.open(path, "rb")  # type: ignore[return-value]
    return open(path, "rb", buffering=0)


class CaptureReader:
    """Packets of one capture file, in file order. Iterate it once."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.errors: Counter[str] = Counter()
        self.format = ""

    def __iter__(self) -> Iterator[Record]:
        """Opens the file; NotACapture (or OSError) at once, before the first packet."""
        fh = _open(self.path)
        try:
            head = fh.read(24)
        except BaseException:
            fh.close()
            raise
        magic = head[:4]
        if magic in _CLASSIC:
            self.format = "pcap"
            return _classic_records(fh, head, self.errors)
        if magic == PCAPNG_MAGIC:
            self.format = "pcapng"
            return read_pcapng(fh, head, self.errors)
        fh.close()
        raise NotACapture(f"{self.path}: not a pcap or pcapng file")


def _u32(b: bytes, p: int, big: bool) -> int:
    """The unsigned 32-bit integer at ``b[p:p + 4]`` (byte by byte: fastest compiled)."""
    if big:
        return (b[p] << 24) | (b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3]
    return (b[p + 3] << 24) | (b[p + 2] << 16) | (b[p + 1] << 8) | b[p]


def _classic_records(fh: IO[bytes], head: bytes, errors: Counter[str]) -> Iterator[Record]:
    """Records of a classic pcap file whose first bytes (``head``) were read; closes
    ``fh`` when done."""
    with fh:
        if len(head) < 24:
            errors["truncated_file_header"] += 1
            return
        endian, units = _CLASSIC[head[:4]]
        snaplen, linktype = struct.unpack_from(endian + "II", head, 16)
        linktype &= 0x0FFFFFFF  # the top bits carry the FCS length and flags
        if snaplen == 0:
            snaplen = MAX_RECORD
        limit = max(snaplen, MAX_RECORD)
        big = endian == ">"
        buf = b""
        pos = 0
        while True:
            more = fh.read(CHUNK)
            if not more:
                break
            buf = buf[pos:] + more if pos < len(buf) else more
            pos = 0
            n = len(buf)
            while pos + 16 <= n:
                sec = _u32(buf, pos, big)
                frac = _u32(buf, pos + 4, big)
                caplen = _u32(buf, pos + 8, big)
                wirelen = _u32(buf, pos + 12, big)
                end = pos + 16 + caplen
                if caplen > snaplen:
                    if caplen > limit:
                        errors["bad_record_length"] += 1
                        return
                    if end > n:
                        break
                    errors["caplen_exceeds_snaplen"] += 1
                elif end > n:
                    break
                if wirelen < caplen:
                    errors["caplen_exceeds_wirelen"] += 1
                    wirelen = caplen
                yield sec + frac / units, linktype, buf, pos + 16, caplen, wirelen
                pos = end
        if pos < len(buf):
            errors["truncated_record"] += 1
