"""BPF for the live capture: a filter expression compiled by libpcap (through scapy's
``compile_filter``), capped at the snap length, attached to a packet socket.

The kernel cuts each accepted packet to the value its filter program returns, so the snap
length is applied in the kernel by rewriting every non-zero ``ret #k`` to ``ret #snaplen``
(what libpcap itself does). Without an expression the program is one ``ret #snaplen``.
"""

from __future__ import annotations

import ctypes
import socket
import struct

SO_ATTACH_FILTER = 26
BPF_RET_K = 0x06  # BPF_RET | BPF_K
_INSN = struct.Struct("=HBBI")  # struct sock_filter: code, jt, jf, k

# ARPHRD (from the bound socket) -> (DLT for libpcap, linktype for the decoder)
ARPHRD_ETHER, ARPHRD_LOOPBACK, ARPHRD_NONE, ARPHRD_IPIP = 1, 772, 0xFFFE, 768
LINKTYPES = {ARPHRD_ETHER: (1, 1), ARPHRD_LOOPBACK: (1, 1), ARPHRD_NONE: (12, 101),
             ARPHRD_IPIP: (12, 101), 776: (12, 101), 778: (12, 101)}


class FilterError(ValueError):
    """The filter expression does not compile (the message is libpcap's)."""


def compile_bpf(expr: str, dlt: int, snaplen: int) -> bytes:
    """The filter program as ``struct sock_filter`` records, capped at ``snaplen``."""
    if not expr.strip():
        return _INSN.pack(BPF_RET_K, 0, 0, snaplen)
    from scapy.arch.common import compile_filter
    from scapy.error import Scapy_Exception

    try:
        prog = compile_filter(expr, linktype=dlt)
    except (Scapy_Exception, OSError, ImportError) as exc:
        raise FilterError(str(exc).strip()) from None
    try:
        raw = ctypes.string_at(ctypes.addressof(prog.bf_insns.contents),
                               prog.bf_len * _INSN.size)
    finally:
        _free(prog)
    out = bytearray()
    for code, jt, jf, k in _INSN.iter_unpack(raw):
        if code == BPF_RET_K and k:
            k = snaplen
        out += _INSN.pack(code, jt, jf, k)
    return bytes(out)


def _free(prog: ctypes.Structure) -> None:
    try:
        from scapy.libs.winpcapy import pcap_freecode
    except (ImportError, OSError):  # pragma: no cover - libpcap present if compile worked
        return
    pcap_freecode(ctypes.byref(prog))


def attach(sock: socket.socket, program: bytes) -> None:
    """SO_ATTACH_FILTER: the kernel copies the program; our buffer may go after the call."""
    insns = ctypes.create_string_buffer(program, len(program))
    # struct sock_fprog {unsigned short len; struct sock_filter *filter;}, native layout
    fprog = struct.pack("HP", len(program) // _INSN.size, ctypes.addressof(insns))
    sock.setsockopt(socket.SOL_SOCKET, SO_ATTACH_FILTER, fprog)
