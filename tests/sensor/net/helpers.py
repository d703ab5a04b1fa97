"""Shared helpers: run a capture through the pcap source or the engine, collect flows."""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

from ronda.clock import ManualClock
from ronda.component import Context
from ronda.metrics import Metrics
from ronda.schema import Event
from sensor.net.engine import PacketEngine
from sensor.net.flows import FlowTable
from sensor.net.source import PcapConfig, PcapSource

T0 = 1_767_225_600.0  # 2026-01-01T00:00:00Z


def context(tmp: Path) -> Context:
    return Context("test", ManualClock(T0), Metrics(), tmp, logging.getLogger("test"))


def replay(path: Path, tmp: Path, **settings: Any) -> tuple[list[Event], PcapSource]:
    """Every event the pcap source emits for ``path`` (and the source, for its metrics).
    Flows only unless the test asks for protocol parsers."""
    settings.setdefault("protocols", [])
    src = PcapSource("pcap", PcapConfig(type="pcap", path=str(path), **settings),
                     context(tmp))
    events: list[Event] = []
    src.run(lambda batch, pos: events.extend(batch), threading.Event())
    return events, src


def feed(frames: list[tuple[float, bytes]], **table: Any) -> tuple[list[Event], PacketEngine]:
    """Ethernet frames straight into the engine (no file)."""
    events: list[Event] = []
    engine = PacketEngine(FlowTable(events.append, **table))
    records = ((ts, 1, f, 0, len(f), len(f)) for ts, f in frames)
    engine.run(records, lambda ts: True)
    engine.table.flush()
    return events, engine


def by_port(events: list[Event]) -> dict[int, Event]:
    return {e.fields.get("destination.port", -1): e for e in events}
