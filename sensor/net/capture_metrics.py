"""Moves a live capture's plain counters (engine, flow table, ring, kernel) into the
Prometheus families; called about once a second and at the end, never per packet."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from typing import Protocol

from ronda.metrics import Metrics
from sensor.net.engine import PacketEngine
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


class CaptureMetrics:
    def __init__(self, m: Metrics, name: str, engine: PacketEngine, ring: PacketReader,
                 proto_errors: Counter[str]) -> None:
        self.m, self.name, self.engine, self.ring = m, name, engine, ring
        self.proto_errors = proto_errors
        self.received = m.received.labels(component=name)
        self.emitted_c = m.emitted.labels(component=name)
        self.active = m.flows_active.labels(component=name)
        self.k_packets = m.capture_kernel_packets.labels(component=name)
        self.k_drops = m.capture_kernel_drops.labels(component=name)
        self.emitted = 0
        self._packets = self._evictions = self._emitted = 0
        self._kp = self._kd = 0

    def __call__(self) -> None:
        e, m, name, ring = self.engine, self.m, self.name, self.ring
        table = e.table
        if ring.packets > self._packets:
            self.received.inc(ring.packets - self._packets)
            self._packets = ring.packets
        if self.emitted > self._emitted:
            self.emitted_c.inc(self.emitted - self._emitted)
            self._emitted = self.emitted
        counts = ring.stats()
        if counts is not None:
            kp, kd = counts
            self.k_packets.inc(kp - self._kp)  # inc(0) too: the series exists from the start
            self.k_drops.inc(kd - self._kd)
            self._kp, self._kd = kp, kd
        for reason, n in (e.errors + self.proto_errors).items():
            m.packet_decode_errors.labels(component=name, reason=reason).inc(n)
        e.errors.clear()
        self.proto_errors.clear()
        for reason, n in e.skipped.items():
            m.packets_skipped.labels(component=name, reason=reason).inc(n)
        e.skipped.clear()
        for reason, n in table.ended.items():
            m.flows.labels(component=name, reason=reason).inc(n)
        table.ended.clear()
        if table.evictions > self._evictions:
            m.flow_evictions.labels(component=name, reason="table_full").inc(
                table.evictions - self._evictions)
            self._evictions = table.evictions
        self.active.set(len(table))
