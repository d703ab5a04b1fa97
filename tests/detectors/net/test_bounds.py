"""A spoofed-source SYN flood of a million distinct addresses keeps every detector's
state within its configured bound, and the evictions are counted. (The beacon table's
bound under churn is tested in test_beacon.py.)"""

from __future__ import annotations

import time
from collections.abc import Iterator

from detectors.net.beacon import BeaconConfig, BeaconDetector
from detectors.net.flood import FloodConfig, FloodDetector
from detectors.net.portscan import PortscanConfig, PortscanDetector
from ronda.component import Detector
from ronda.schema import Alert, Event

from .helpers import T0, evicted, make_ctx

N = 1_000_000
BATCH = 10_000


def spoofed_flood() -> Iterator[list[Event]]:
    """SYN-only flows from N distinct sources to one web server, 100k per second."""
    for start in range(0, N, BATCH):
        batch = []
        for i in range(start, start + BATCH):
            src = f"{1 + (i >> 16)}.{i >> 8 & 255}.{i & 255}.9"
            fields = {"source.ip": src, "source.port": 1024 + i % 60000,
                      "destination.ip": "10.0.0.80", "destination.port": 80,
                      "network.transport": "tcp", "ronda.flow.state": "S0",
                      "ronda.flow.history": "S", "source.packets": 1}
            msg = f"tcp {src}:{1024 + i % 60000} -> 10.0.0.80:80 S0 S 1 pkts 60 bytes (idle)"
            batch.append(Event("network.flow", T0 + i / 100_000, fields, msg, "lan"))
        yield batch


def test_million_spoofed_sources_stay_within_bounds() -> None:
    ctx = make_ctx()
    dets: list[Detector] = [
        PortscanDetector("portscan", PortscanConfig(type="portscan", max_groups=5000), ctx),
        FloodDetector("flood", FloodConfig(type="flood", max_groups=100, max_sources=5000),
                      ctx),
        # default scope: outside sources (spoofed or not) never make beacon state
        BeaconDetector("beacon", BeaconConfig(type="beacon", max_pairs=5000), ctx),
    ]
    started = time.perf_counter()
    alerts: list[Alert] = []
    for batch in spoofed_flood():
        for det in dets:
            alerts += det.process(batch)
    elapsed = time.perf_counter() - started
    portscan, flood, beacon = dets
    assert isinstance(portscan, PortscanDetector) and isinstance(flood, FloodDetector)
    assert isinstance(beacon, BeaconDetector)
    assert portscan.group_counts() == {"vertical": 5000, "horizontal": 5000}
    assert flood.group_counts() == {"targets": 1, "sources": 5000}
    assert beacon.group_counts() == {"pairs": 0}
    assert evicted(ctx, "portscan") == 2 * (N - 5000)
    assert evicted(ctx, "flood") == N - 5000
    # the flood itself is seen: one SYN-flood alert, updated as it doubles
    syn = [a for a in alerts if a.rule.id == "ronda-flood-syn"]
    assert syn and len({a.id for a in syn}) == 1
    assert {a.rule.id for a in alerts} == {"ronda-flood-syn"}
    assert elapsed < 60, elapsed  # about 10 s of CPU; shared machines are slower
