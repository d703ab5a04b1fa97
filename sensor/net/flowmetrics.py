"""Moves a packet source's plain counters (engine, flow table, parsers) into the Prometheus
families; called about once a second and at the end, never per packet."""

from __future__ import annotations

from collections import Counter

from ronda.metrics import Metrics
from sensor.net.engine import PacketEngine


class FlowMetrics:
    def __init__(self, m: Metrics, name: str, engine: PacketEngine,
                 proto_errors: Counter[str], reader_errors: Counter[str] | None = None) -> None:
        self.m, self.name, self.engine = m, name, engine
        self.proto_errors = proto_errors
        self.reader_errors = reader_errors  # a capture file's record defects
        self.received = m.received.labels(component=name)
        self.emitted_c = m.emitted.labels(component=name)
        self.active = m.flows_active.labels(component=name)
        self.emitted = 0
        self._packets = self._evictions = self._emitted = 0

    def packets(self) -> int:
        """Packets received so far."""
        return self.engine.packets

    def more(self) -> None:
        """What a kind of source adds (the kernel's counts of a live capture)."""

    def __call__(self) -> None:
        e, m, name = self.engine, self.m, self.name
        table = e.table
        packets = self.packets()
        if packets > self._packets:
            self.received.inc(packets - self._packets)
            self._packets = packets
        if self.emitted > self._emitted:
            self.emitted_c.inc(self.emitted - self._emitted)
            self._emitted = self.emitted
        self.more()
        errors = e.errors + self.proto_errors
        if self.reader_errors is not None:
            errors += self.reader_errors
            self.reader_errors.clear()
        for reason, n in errors.items():
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
