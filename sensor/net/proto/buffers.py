"""The byte budget that the per-flow buffers of the protocol parsers share.

Each parser keeps a small buffer per flow direction (an HTTP head, a TLS hello, a DNS over
TCP message, an SSH banner split over segments) with a cap of its own; a flow table of
``max_flows`` flows could still make them hold GBs (200,000 flows x 2 sides x 16 KiB of
HTTP head is 6.4 GB). One ``Budget`` per packet source (``registry.make_observers``) bounds
them all together: after each packet, a buffer that grew past what is left of the budget
loses its message (it is cleared, counted as ``proto_buffer_budget``, and the parser resyncs
as for an oversize message). Bytes come back to the budget as buffers shrink, clear, or
their flow ends, so ``used`` is always the bytes the buffers hold between packets.

Only what a buffer keeps from one packet to the next counts: a message complete within
one segment is parsed from the packet and costs nothing, even with the budget spent.
"""

from __future__ import annotations

from collections import Counter
from typing import TypeVar

DEFAULT_BUDGET = 64 * 1024 * 1024
BUDGET_REASON = "proto_buffer_budget"
T = TypeVar("T", bytes, memoryview)


class Budget:
    """The bytes (``limit``) all the buffers of one packet source may hold at once;
    ``used`` is what they hold now (for a gauge), ``peak`` the most they held, ``drops``
    the messages dropped for want of budget (also counted in ``errors``)."""

    __slots__ = ("drops", "errors", "limit", "peak", "used")

    def __init__(self, limit: int = DEFAULT_BUDGET, errors: Counter[str] | None = None) -> None:
        if limit < 0:
            raise ValueError("the buffer budget cannot be negative")
        self.limit = limit
        self.used = 0
        self.peak = 0
        self.drops = 0
        self.errors: Counter[str] = errors if errors is not None else Counter()

    def settle(self, buf: bytearray, before: int) -> bool:
        """Account for ``buf`` having held ``before`` bytes before this packet. False when
        it grew past the budget: its message is dropped (counted, its bytes no longer
        held), and the caller must clear it."""
        used = self.used + len(buf) - before
        if used > self.limit and len(buf) > before:
            self.used = used - len(buf)
            self.drops += 1
            self.errors[BUDGET_REASON] += 1
            return False
        self.used = used
        if used > self.peak:
            self.peak = used
        return True

    def release(self, *bufs: bytearray) -> None:
        """Give back what ``bufs`` hold, and empty them (their flow ends or is done)."""
        for buf in bufs:
            if buf:
                self.used -= len(buf)
                buf.clear()

    def free(self) -> int:
        return max(0, self.limit - self.used)


def joined(buf: bytearray, data: T) -> bytearray | T:
    """Where to look for a message: ``data`` itself when nothing is buffered (no copy),
    else ``buf`` with ``data`` appended."""
    if buf:
        buf += data
        return buf
    return data


def keep(buf: bytearray, hay: bytearray | bytes | memoryview, start: int = 0) -> None:
    """After looking at ``hay`` (from ``joined``): hold its bytes from ``start`` on, the
    part of a message still to come, in ``buf`` (the budget counts them after the packet)."""
    if hay is buf:
        if start:
            del buf[:start]
    elif start < len(hay):
        buf += hay[start:]
