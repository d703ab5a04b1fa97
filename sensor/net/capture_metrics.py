"""A live capture's metrics: those of every packet source (``FlowMetrics``) and the
ring's and kernel's counts."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from typing import Protocol

from ronda.metrics import Metrics
from sensor.net.engine import PacketEngine
from sensor.net.flowmetrics import FlowMetrics
from sensor.net.pcapfile import Record


class PacketReader(Protocol):
    """What the capture source reads from: the packet ring or the pyshark backend."""

    packets: int  # packets handed to the engine

    def stats(self) -> tuple[int, int] | None:
        """Kernel totals (accepted, dropped), or None when the backend cannot tell."""
        ...

    def records(self, idle: Callable[[], bool], poll_ms: int = 100) -> Iterator[Record]:
        ...

    def close(self) -> None:
        ...


class CaptureMetrics(FlowMetrics):
    """A live capture's: packets as the reader counts them, and the kernel's counts."""

    def __init__(self, m: Metrics, name: str, engine: PacketEngine, ring: PacketReader,
                 proto_errors: Counter[str]) -> None:
        super().__init__(m, name, engine, proto_errors)
        self.ring = ring
        self.k_packets = m.capture_kernel_packets.labels(component=name)
        self.k_drops = m.capture_kernel_drops.labels(component=name)
        self._kp = self._kd = 0

    def packets(self) -> int:
        return self.ring.packets

    def more(self) -> None:
        counts = self.ring.stats()
        if counts is not None:
            kp, kd = counts
            self.k_packets.inc(kp - self._kp)  # inc(0) too: the series exists from the start
            self.k_drops.inc(kd - self._kd)
            self._kp, self._kd = kp, kd
