"""TCP endpoint states, connection history and ``conn_state``, after Zeek's conn.log.

Each endpoint of a connection walks INACTIVE -> SYN_SENT / SYN_ACK_SENT / PARTIAL ->
ESTABLISHED -> CLOSED / RESET, driven by the flags it sends (a port of the transitions in
Zeek's TCP session adapter, without sequence-number tracking). ``conn_state`` maps the two
endpoint states to Zeek's summary (S0, S1, SF, REJ, S2, S3, RSTO, RSTR, RSTOS0, RSTRH, SH,
SHR, OTH).

History letters (upper case: originator, lower case: responder): ``s`` SYN without ACK,
``h`` SYN+ACK, ``a`` pure ACK, ``d`` payload, ``f`` FIN, ``r`` RST, ``i`` FIN+RST together,
``q`` SYN with FIN or RST, ``^`` the direction was flipped (the responder spoke first).
Differences from Zeek: each letter is recorded at most once per direction (Zeek repeats
s/h/f/r when the sequence number differs), and the letters that need sequence analysis
(``c`` bad checksum, ``g`` gap, ``t`` retransmission, ``w`` zero window) are not produced.
"""

from __future__ import annotations

import re
from typing import Protocol

INACTIVE, SYN_SENT, SYN_ACK_SENT, PARTIAL, ESTABLISHED, CLOSED, RESET = range(7)
FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10

# History bits: one per letter class, originator in the low byte, responder in the next.
H_SYN, H_FIN, H_RST, H_DATA, H_ACK, H_FINRST, H_MULTI = 1, 2, 4, 8, 16, 32, 64
RESP_SHIFT = 8
_RSTOS0 = re.compile(r"\^?S[^HAFGIQ]*R")


class TcpFlow(Protocol):
    """The TCP fields of a flow record (``sensor.net.flows.Flow``)."""

    o_state: int
    r_state: int
    o_prev: int
    r_prev: int
    hist: str
    hbits: int


def add_history(flow: TcpFlow, bit: int, letter: str, is_orig: bool) -> None:
    """Record ``letter`` once per direction (``bit`` is its class, unshifted)."""
    if not is_orig:
        bit <<= RESP_SHIFT
        letter = letter.lower()
    if not flow.hbits & bit:
        flow.hbits |= bit
        flow.hist += letter


def _set(flow: TcpFlow, is_orig: bool, state: int) -> None:
    if is_orig:
        flow.o_prev, flow.o_state = flow.o_state, state
    else:
        flow.r_prev, flow.r_state = flow.r_state, state


def update(flow: TcpFlow, is_orig: bool, flags: int, payload: int) -> None:
    """One segment from the originator (``is_orig``) or the responder."""
    syn, fin, rst, ack = flags & SYN, flags & FIN, flags & RST, flags & ACK
    nbits = (syn >> 1) + fin + (rst >> 2)
    if nbits > 1:
        add_history(flow, H_FINRST if fin and rst else H_MULTI, "I" if fin and rst else "Q",
                    is_orig)
    elif syn:
        add_history(flow, H_SYN, "H" if ack else "S", is_orig)
    elif fin:
        add_history(flow, H_FIN, "F", is_orig)
    elif rst:
        add_history(flow, H_RST, "R", is_orig)
    elif payload:
        add_history(flow, H_DATA, "D", is_orig)
    elif ack:
        add_history(flow, H_ACK, "A", is_orig)

    state = flow.o_state if is_orig else flow.r_state
    peer = flow.r_state if is_orig else flow.o_state
    if state == INACTIVE:
        if syn:
            if is_orig:
                _set(flow, True, SYN_ACK_SENT if ack else SYN_SENT)
            else:
                if peer == SYN_SENT:
                    _set(flow, True, ESTABLISHED)
                _set(flow, False, ESTABLISHED)
        if fin:
            _set(flow, is_orig, CLOSED)
        if rst:
            _set(flow, is_orig, RESET)
        if (flow.o_state if is_orig else flow.r_state) == INACTIVE:
            if not is_orig and not payload and flow.o_state == SYN_SENT:
                pass  # an ACK of the SYN before the SYN+ACK: not a partial connection
            elif ack and peer == ESTABLISHED:
                _set(flow, is_orig, ESTABLISHED)  # the SYN was missed, the SYN+ACK was not
            else:
                _set(flow, is_orig, PARTIAL)
    elif state in (SYN_SENT, SYN_ACK_SENT):
        if fin:
            _set(flow, is_orig, CLOSED)
        if rst:
            _set(flow, is_orig, RESET)
    elif state in (ESTABLISHED, PARTIAL):
        if syn and state == PARTIAL and peer == INACTIVE and not ack:
            _set(flow, is_orig, SYN_SENT)
        if fin and not rst:
            _set(flow, is_orig, CLOSED)
            prev = flow.r_prev if is_orig else flow.o_prev
            if peer == RESET and prev == CLOSED:  # the peer's FIN then RST: a normal close
                _set(flow, not is_orig, CLOSED)
        if rst:
            _set(flow, is_orig, RESET)
    elif state == CLOSED and rst and peer != CLOSED:
        _set(flow, is_orig, RESET)


def finished(flow: TcpFlow) -> bool:
    """Closed for good: a RST, both FINs, or a FIN facing a silent peer."""
    o, r = flow.o_state, flow.r_state
    return (o == RESET or r == RESET or (o == CLOSED and r in (CLOSED, INACTIVE))
            or (r == CLOSED and o == INACTIVE))


def conn_state(flow: TcpFlow) -> str:
    """Zeek's conn_state for a TCP connection."""
    os, rs = flow.o_state, flow.r_state
    o_inactive = os in (INACTIVE, PARTIAL)
    r_inactive = rs in (INACTIVE, PARTIAL)
    if rs == RESET:
        if os in (SYN_SENT, SYN_ACK_SENT) or (
                os == RESET and not flow.hbits & (H_DATA | H_DATA << RESP_SHIFT)):
            return "REJ"  # (Zeek: no payload bytes either way; here: no 'd' letters)
        return "RSTRH" if o_inactive else "RSTR"
    if os == RESET:
        if r_inactive:
            return "RSTOS0" if _RSTOS0.match(flow.hist) else "OTH"
        return "RSTO"
    if rs == CLOSED and os == CLOSED:
        return "SF"
    if os == CLOSED:
        return "SH" if r_inactive else "S2"
    if rs == CLOSED:
        return "SHR" if o_inactive else "S3"
    if os == SYN_SENT and rs == INACTIVE:
        return "S0"
    if os == ESTABLISHED and rs == ESTABLISHED:
        return "S1"
    return "OTH"
