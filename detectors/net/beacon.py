"""Beaconing: an inside host connecting to one destination at regular intervals.

Configured as::

    detectors:
      beacon: {type: beacon, min_connections: 8, max_jitter: 0.15, min_period: 10s}

Per (inside ``source.ip``, ``destination.ip``, ``destination.port``) the detector keeps
the start times of the last ``max_timestamps`` flows (``network.flow`` events; a start
within ``min_gap`` of the previous one is the same burst). With at least
``min_connections`` of them, the intervals' jitter -- median absolute deviation over the
median -- at most ``max_jitter`` and a median period between ``min_period`` and
``max_period`` make a beacon. A person browsing makes bursts and pauses (high jitter);
malware sleeping ``N`` seconds plus a little randomisation does not. A missed beacon (a
doubled interval) barely moves the median measures.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from itertools import pairwise
from statistics import median
from typing import Any, Literal

from pydantic import Field

from detectors.net.common import (
    Counters,
    Episode,
    LruTable,
    flow_evidence,
    flow_start,
    newest,
)
from detectors.net.config_types import CidrList
from detectors.net.netset import NetSet
from ronda.component import Context, Detector, DetectorConfig
from ronda.durations import Duration
from ronda.schema import Alert, Event, RuleRef, Severity

RULE = RuleRef(
    id="ronda-beacon", name="Beaconing to one destination", ruleset="ronda-net",
    category="c2",
    description="An inside host connects to one destination at regular intervals.")
TECHNIQUES = ("T1071",)
RFC1918 = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"]


class BeaconConfig(DetectorConfig):
    type: Literal["beacon"]
    inside: CidrList = Field(default_factory=lambda: list(RFC1918))
    """The networks whose hosts are watched (default RFC 1918 and IPv6 ULA)."""
    outbound_only: bool = True
    """Only destinations outside ``inside``."""
    min_connections: int = Field(default=8, ge=3)
    max_jitter: float = Field(default=0.15, ge=0)
    """Median absolute deviation of the intervals over their median."""
    min_period: Duration = 10.0
    max_period: Duration = 3600.0
    min_gap: Duration = 1.0
    """Flows starting closer than this to the previous one are one burst."""
    ignore_ports: list[int] = Field(default_factory=lambda: [53, 123, 5353])
    """Destination ports that are periodic by design (DNS, NTP, mDNS)."""
    ignore_destinations: CidrList = Field(default_factory=list)
    max_pairs: int = Field(default=50_000, ge=1)
    """(source, destination, port) pairs kept; least recently seen evicted beyond."""
    max_timestamps: int = Field(default=64, ge=3)
    severity: Severity = Severity.MEDIUM


class _Pair:
    __slots__ = ("count", "episode", "starts")

    def __init__(self, keep: int) -> None:
        self.starts: deque[float] = deque(maxlen=keep)
        self.episode = Episode()
        self.count = 0


def jitter(starts: Sequence[float]) -> tuple[float, float]:
    """(median interval, median absolute deviation / median) of sorted start times."""
    gaps = [b - a for a, b in pairwise(starts)]
    mid = median(gaps)
    if mid <= 0:
        return 0.0, float("inf")
    mad = median(abs(g - mid) for g in gaps)
    return mid, mad / mid


class BeaconDetector(Detector):
    config_model = BeaconConfig
    config: BeaconConfig

    def __init__(self, name: str, config: BeaconConfig, ctx: Context) -> None:
        super().__init__(name, config, ctx)
        self._counters = Counters(name, ctx)
        self._inside = NetSet.parse(config.inside)
        self._ignore = NetSet.parse(config.ignore_destinations)
        self._ports = frozenset(config.ignore_ports)
        keep = config.max_timestamps
        self._pairs: LruTable[tuple[str, str, Any], _Pair] = LruTable(
            config.max_pairs, lambda: _Pair(keep))

    def reload(self) -> int:
        self._counters.rules_loaded.set(1)
        return 1

    def rule_info(self) -> list[tuple[RuleRef, Severity]]:
        return [(RULE, self.config.severity)]

    def group_counts(self) -> dict[str, int]:
        return {"pairs": len(self._pairs)}

    def process(self, events: Sequence[Event]) -> list[Alert]:
        alerts: list[Alert] = []
        for event in events:
            if event.dataset != "network.flow":
                continue
            alert = self._one(event)
            if alert is not None:
                alerts.append(alert)
        self._pairs.prune(newest(events) - 3 * self.config.max_period, lambda p: p.episode.last)
        self._counters.done(len(events), len(alerts), self._pairs.take_evicted())
        return alerts

    def _one(self, event: Event) -> Alert | None:
        cfg = self.config
        f = event.fields
        src, dst, port = f.get("source.ip"), f.get("destination.ip"), f.get("destination.port")
        if not isinstance(src, str) or not isinstance(dst, str) or port in self._ports:
            return None
        if not self._inside.contains_text(src):
            return None
        if cfg.outbound_only and self._inside.contains_text(dst):
            return None
        if self._ignore.contains_text(dst):
            return None
        start = flow_start(event)
        pair = self._pairs.get((src, dst, port))
        starts = pair.starts
        if starts and abs(start - starts[-1]) < cfg.min_gap:
            return None
        if starts and start - starts[-1] > 3 * cfg.max_period:
            starts.clear()
        starts.append(start)
        pair.count += 1
        ep = pair.episode
        if ep.touch(start, 3 * cfg.max_period, flow_evidence(event)):
            pair.count = 1
        if len(starts) < cfg.min_connections:
            return None
        period, jit = jitter(sorted(starts))
        if jit > cfg.max_jitter or not cfg.min_period <= period <= cfg.max_period:
            return None
        new = ep.due(pair.count, cfg.min_connections)
        if not new:
            return None
        ep.start = ep.start or starts[0]
        key = f"{src}->{dst}" + ("" if port is None else f":{port}")
        fields: dict[str, Any] = {
            "source.ip": src, "destination.ip": dst, "ronda.beacon.period": round(period, 3),
            "ronda.beacon.jitter": round(jit, 4), "ronda.beacon.connections": pair.count}
        if port is not None:
            fields["destination.port"] = port
        if f.get("network.transport"):
            fields["network.transport"] = f["network.transport"]
        return Alert(
            rule=RULE, severity=cfg.severity,
            message=(f"beaconing from {src} to {key.split('->', 1)[1]}: {pair.count} "
                     f"connections every {period:.1f}s (jitter {jit:.1%})"),
            first_seen=ep.start, last_seen=max(ep.last, event.timestamp), key=key,
            count=new, techniques=TECHNIQUES, fields=fields,
            evidence=tuple(ep.evidence), sensor=self.ctx.sensor, detector=self.name,
            source=event.source)
