"""Garbage-collector settings for the daemon's process (``ronda run`` and ``replay``).

A sensor allocates a few small objects per packet (tuples, flow keys) and keeps up to
hundreds of thousands of long-lived ones (flows, detector windows, compiled rules). With
CPython's default thresholds a young collection runs every 700 allocations and the older
generations are walked often, which cost over 20% of the packet path. After start-up the
loaded configuration and rules are frozen out of the collector's reach, and young
collections run over a hundred times less often: at 10,000 the collector still took
about a tenth of the packet path (perf), at 100,000 the packet loop runs as fast as with
the collector off. Reference counting still frees almost everything
at once; only reference cycles wait for a collection.
"""

from __future__ import annotations

import gc

YOUNG = 100_000  # allocations between young collections (CPython: 700)
MIDDLE = 50  # young collections per middle one (CPython: 10)
OLD = 100  # middle collections per full one (CPython: 10)


def tune_gc() -> None:
    """Call once the components are built, just before the pipeline starts."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG, MIDDLE, OLD)
