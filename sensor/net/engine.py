"""The packet hot loop: capture records -> decoder -> flow table, with counts by reason.

Counters are plain ints and Counters here; the caller moves them into Prometheus
metrics on each tick (every ``tick_every`` packets), so the loop itself takes no locks.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator

from sensor.net.decode import SKIPPED, Decoder, decoder_for, ethernet
from sensor.net.flows import SWEEP_INTERVAL, FlowTable
from sensor.net.pcapfile import Record

TICK_EVERY = 4096


class PacketEngine:
    def __init__(self, table: FlowTable) -> None:
        self.table = table
        self.packets = 0
        self.errors: Counter[str] = Counter()  # malformed packets, by reason
        self.skipped: Counter[str] = Counter()  # well-formed, not tracked (not IP, fragments)

    def run(self, records: Iterable[Record], on_tick: Callable[[float], bool],
            tick_every: int = TICK_EVERY) -> None:
        """Process every record; every ``tick_every`` packets call ``on_tick(ts)``, and
        stop early when it returns False. Ends with a last tick (the caller flushes)."""
        table = self.table
        errors = self.errors
        skipped = self.skipped
        decoders: dict[int, Decoder] = {}
        last_lt = -1
        dec: Decoder = decoder_for(-1)
        n = 0
        tick_at = tick_every
        ts = 0.0
        try:
            for ts, lt, buf, off, caplen, wirelen in records:
                if lt != last_lt:
                    dec = decoders.get(lt) or decoders.setdefault(lt, decoder_for(lt))
                    last_lt = lt
                # (direct calls: compiled, they are native calls, not Python ones)
                r = ethernet(buf, off, caplen, wirelen) if lt == 1 else dec(buf, off, caplen,
                                                                           wirelen)
                if isinstance(r, str):
                    if r in SKIPPED:
                        skipped[r] += 1
                    else:
                        errors[r] += 1
                else:
                    table.packet(ts, r)
                n += 1
                if n >= tick_at:
                    tick_at = n + tick_every
                    self.packets = n
                    if ts < table.next_sweep - 60 * SWEEP_INTERVAL:
                        table.next_sweep = ts  # time jumped back: re-arm the idle sweep
                    if not on_tick(ts):
                        return
        finally:
            self.packets = n
        on_tick(ts)


def paced(records: Iterable[Record], stop: threading.Event) -> Iterator[Record]:
    """Records at the pace they were captured (``realtime``): each waits until as much
    wall time has passed since the first as packet time has."""
    base: float | None = None
    for rec in records:
        ts = rec[0]
        now = time.monotonic()
        if base is None:
            base = now - ts
        delay = base + ts - now
        if delay > 0 and stop.wait(delay):
            return
        yield rec
