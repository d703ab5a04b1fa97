"""A Linux packet socket with a TPACKET_V3 receive ring, read without a syscall per packet.

The kernel writes packets into blocks of a memory-mapped ring (``buffer_size`` bytes in
blocks of ``block_size``) and hands a block to user space when it is full or
``retire_ms`` after its first packet. Each packet carries the kernel's receive timestamp
(nanoseconds). The reader yields the same records as the capture-file readers —
``(ts, linktype, buf, offset, caplen, wirelen)`` with ``buf`` a copy of the frame (the
compiled decoder reads ``bytes``) — so the packet engine cannot tell a live packet from a
recorded one. A block goes back to the kernel once all its packets are read.

When the ring is full the kernel drops packets and counts them; ``stats()`` reads the
kernel's counters (``PACKET_STATISTICS``, which reset on every read) and keeps totals.
Opening needs root or CAP_NET_RAW. The filter is attached before the socket is bound to
all protocols, so no packet the filter rejects is ever queued.

Not handled: VLAN tags the driver stripped into the packet's metadata (hardware VLAN
offload) are not put back, so such packets are seen untagged.
"""

from __future__ import annotations

import contextlib
import errno
import mmap
import select
import socket
import struct
from collections.abc import Callable, Iterator

from sensor.net.capture_bpf import LINKTYPES, FilterError, attach, compile_bpf
from sensor.net.pcapfile import Record

SOL_PACKET = 263
PACKET_ADD_MEMBERSHIP, PACKET_RX_RING, PACKET_STATISTICS, PACKET_VERSION = 1, 5, 6, 10
TPACKET_V3 = 2
PACKET_MR_PROMISC = 1
ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4
TP_STATUS_USER = 1
FRAME_SIZE = 2048  # TPACKET_V3 packs packets tightly; this only satisfies the ring checks

_BLOCK = struct.Struct("=III").unpack_from  # block_status, num_pkts, offset_to_first_pkt
_PKT = struct.Struct("=IIIII4xH").unpack_from  # next, sec, nsec, snaplen, len, (status), mac
_STATUS = struct.Struct("=I").pack_into
_SLL_PKTTYPE = 58  # tpacket3_hdr is 48 bytes, then sockaddr_ll: sll_pkttype at +10


class CaptureOpenError(Exception):
    """The interface cannot be captured on (one line, for a ConfigError)."""


class PacketRing:
    def __init__(self, interface: str, *, bpf: str = "", snaplen: int = 65535,
                 promiscuous: bool = True, buffer_size: int = 64 << 20,
                 block_size: int = 1 << 20, retire_ms: int = 50) -> None:
        self.interface = interface
        self.packets = 0  # packets read from the ring
        self.kernel_packets = 0  # accepted by the filter (including dropped ones)
        self.kernel_drops = 0  # dropped: the ring was full
        self.link_errors = 0  # errors the kernel reported (link down)
        self._mm: mmap.mmap | None = None
        try:
            sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)  # receives nothing yet
        except PermissionError:
            raise CaptureOpenError(f"interface {interface}: cannot open a packet socket: "
                                   "permission denied (needs root or CAP_NET_RAW)") from None
        self.sock = sock
        try:
            self._open(interface, bpf, snaplen, promiscuous, buffer_size, block_size,
                       retire_ms)
        except BaseException:
            self.close()
            raise

    def _open(self, interface: str, bpf: str, snaplen: int, promiscuous: bool,
              buffer_size: int, block_size: int, retire_ms: int) -> None:
        sock = self.sock
        try:
            sock.bind((interface, 0))
        except OSError as exc:
            why = "no such interface" if exc.errno in (errno.ENODEV, errno.ENXIO) \
                else exc.strerror or str(exc)
            raise CaptureOpenError(f"interface {interface}: {why}") from None
        hatype = sock.getsockname()[3]
        if hatype not in LINKTYPES:
            raise CaptureOpenError(f"interface {interface}: unsupported link type "
                                   f"(ARPHRD {hatype})")
        dlt, self.linktype = LINKTYPES[hatype]
        self._skip_outgoing = hatype == 772  # loopback: each packet shows up twice
        try:
            attach(sock, compile_bpf(bpf, dlt, snaplen))
        except FilterError as exc:
            raise CaptureOpenError(f"bpf {bpf!r}: {exc}") from None
        page = mmap.PAGESIZE
        block_size = max(page, 1 << (max(block_size, page) - 1).bit_length())
        block_size = min(block_size, max(page, 1 << (buffer_size.bit_length() - 1)))
        blocks = max(2, buffer_size // block_size)
        sock.setsockopt(SOL_PACKET, PACKET_VERSION, TPACKET_V3)
        req = struct.pack("=7I", block_size, blocks, FRAME_SIZE,
                          block_size // FRAME_SIZE * blocks, retire_ms, 0, 0)
        try:
            sock.setsockopt(SOL_PACKET, PACKET_RX_RING, req)
            self._mm = mmap.mmap(sock.fileno(), block_size * blocks, mmap.MAP_SHARED,
                                 mmap.PROT_READ | mmap.PROT_WRITE)
        except OSError as exc:
            raise CaptureOpenError(f"interface {interface}: cannot set up a receive ring "
                                   f"of {blocks} x {block_size} bytes: "
                                   f"{exc.strerror or exc}") from None
        self.block_size, self.blocks = block_size, blocks
        if promiscuous:
            mreq = struct.pack("=iHH8s", socket.if_nametoindex(interface),
                               PACKET_MR_PROMISC, 0, b"")
            sock.setsockopt(SOL_PACKET, PACKET_ADD_MEMBERSHIP, mreq)
        sock.bind((interface, ETH_P_ALL))

    def stats(self) -> tuple[int, int]:
        """Kernel totals since opening: (packets accepted, packets dropped)."""
        if self._mm is not None:
            raw = self.sock.getsockopt(SOL_PACKET, PACKET_STATISTICS, 12)
            packets, drops = struct.unpack_from("=II", raw)
            self.kernel_packets += packets  # the kernel counts drops in tp_packets too
            self.kernel_drops += drops
        return self.kernel_packets, self.kernel_drops

    def records(self, idle: Callable[[], bool], poll_ms: int = 100) -> Iterator[Record]:
        """Packets as they come. ``idle()`` is called after each block and after each
        ``poll_ms`` without one; the stream ends when it returns False."""
        mm = self._mm
        assert mm is not None
        fd = self.sock.fileno()
        poller = select.poll()
        poller.register(fd, select.POLLIN | select.POLLERR)
        lt = self.linktype
        skip_out = self._skip_outgoing
        size = self.block_size
        nblocks = self.blocks
        i = 0
        while True:
            base = i * size
            status, num, first = _BLOCK(mm, base + 8)
            if not status & TP_STATUS_USER:
                for _, ev in poller.poll(poll_ms):
                    if ev & select.POLLERR:
                        self._socket_error()
                if not idle():
                    return
                continue
            p = base + first
            for _ in range(num):
                nxt, sec, nsec, caplen, wirelen, mac = _PKT(mm, p)
                if not (skip_out and mm[p + _SLL_PKTTYPE] == PACKET_OUTGOING):
                    # a copy (one per packet): the block goes back to the kernel below, and
                    # the compiled decoder reads bytes
                    q = p + mac
                    yield sec + nsec * 1e-9, lt, mm[q:q + caplen], 0, caplen, wirelen
                p += nxt
            self.packets += num
            _STATUS(mm, base + 8, 0)  # TP_STATUS_KERNEL: the block is the kernel's again
            i = i + 1 if i + 1 < nblocks else 0
            if not idle():
                return

    def _socket_error(self) -> None:
        """The kernel reported an error (reading it clears it). ENETDOWN when the link
        went down: the socket resumes by itself when it comes up, unless the interface
        was deleted, which raises (a restart opens a new socket when it is back)."""
        err = self.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        self.link_errors += 1
        if err and not self.sock.getsockname()[0]:  # unbound: the interface is gone
            raise OSError(errno.ENODEV, f"interface {self.interface} was removed")

    def close(self) -> None:
        mm, self._mm = self._mm, None
        if mm is not None:
            with contextlib.suppress(BufferError):  # a view still alive: unmapped when it goes
                mm.close()
        self.sock.close()
