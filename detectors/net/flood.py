"""Floods from ``network.flow`` events: SYN floods against one destination and
per-source rate floods.

Configured as::

    detectors:
      flood: {type: flood, window: 10s, syn_threshold: 1000, source_flows_per_second: 100}

* SYN flood: half-open TCP flows (the originator sent a SYN and never completed the
  handshake nor sent data: histories ``S``, ``Sh``, ``Sr``, ``ShR``...) to one
  destination address and port, counted per destination whatever the sources, so a
  flood from a million spoofed addresses is one group.
* Rate flood: flows or packets per second from one source, averaged over the window.
  Packets are counted when their flow ends (flow records arrive at the end), so the
  rate is approximate for long flows.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from pydantic import Field

from detectors.net.common import (
    SAMPLES,
    Counters,
    LruTable,
    RateWindow,
    TwoWindows,
    flow_evidence,
    last_of,
    newest,
)
from detectors.net.config_types import CidrList
from detectors.net.netset import NetSet
from ronda.component import Context, Detector, DetectorConfig
from ronda.durations import Duration
from ronda.schema import Alert, Event, RuleRef, Severity

RULESET = "ronda-net"
SYN_FLOOD = RuleRef(
    id="ronda-flood-syn", name="SYN flood", ruleset=RULESET, category="dos",
    description="Many half-open TCP connections to one destination port.")
RATE_FLOOD = RuleRef(
    id="ronda-flood-source-rate", name="Connection or packet flood from one source",
    ruleset=RULESET, category="dos",
    description="One source opened flows or sent packets faster than the configured rate.")
SYN_TECHNIQUES = ("T1499.001", "T1498.001")
RATE_TECHNIQUES = ("T1498.001", "T1499")
MAX_SOURCES_SAMPLED = 256


class FloodConfig(DetectorConfig):
    type: Literal["flood"]
    window: Duration = 10.0
    """Sliding window for both rules."""
    syn_threshold: int = Field(default=1000, ge=1)
    """Half-open flows to one destination address and port within the window."""
    source_flows_per_second: float = Field(default=100.0, gt=0)
    """Flows per second from one source (averaged over the window)."""
    source_packets_per_second: float = Field(default=10_000.0, gt=0)
    """Packets per second from one source (averaged over the window)."""
    max_groups: int = Field(default=10_000, ge=1)
    """Destinations tracked for SYN floods; least recently seen evicted beyond."""
    max_sources: int = Field(default=100_000, ge=1)
    """Sources tracked for rate floods; least recently seen evicted beyond."""
    severity: Severity = Severity.HIGH
    ignore_sources: CidrList = Field(default_factory=list)
    """Sources never reported by the rate rule (backup servers, scanners you run)."""


class _Target(RateWindow):
    __slots__ = ("sources",)

    def __init__(self) -> None:
        super().__init__()
        self.sources: dict[str, None] = {}


def half_open(fields: dict[str, Any]) -> bool:
    """The originator sent a SYN but never an ACK nor data (and it was TCP)."""
    hist = fields.get("ronda.flow.history")
    return (isinstance(hist, str) and "S" in hist and "A" not in hist and "D" not in hist
            and fields.get("network.transport") == "tcp")


class FloodDetector(Detector):
    config_model = FloodConfig
    config: FloodConfig

    def __init__(self, name: str, config: FloodConfig, ctx: Context) -> None:
        super().__init__(name, config, ctx)
        self._counters = Counters(name, ctx)
        self._ignore = NetSet.parse(config.ignore_sources)
        self._targets: LruTable[tuple[Any, Any], _Target] = LruTable(config.max_groups, _Target)
        self._sources: LruTable[str, TwoWindows] = LruTable(config.max_sources, TwoWindows)

    def reload(self) -> int:
        self._counters.rules_loaded.set(2)
        return 2

    def rule_info(self) -> list[tuple[RuleRef, Severity]]:
        return [(SYN_FLOOD, self.config.severity), (RATE_FLOOD, self.config.severity)]

    def group_counts(self) -> dict[str, int]:
        return {"targets": len(self._targets), "sources": len(self._sources)}

    def process(self, events: Sequence[Event]) -> list[Alert]:
        cfg = self.config
        window = cfg.window
        max_flows = cfg.source_flows_per_second * window
        max_packets = cfg.source_packets_per_second * window
        alerts: list[Alert] = []
        for event in events:
            if event.dataset != "network.flow":
                continue
            f = event.fields
            src = f.get("source.ip")
            if src is None:
                continue
            ts = event.timestamp
            text = ""
            if half_open(f):
                dst = f.get("destination.ip")
                target = self._targets.get((dst, f.get("destination.port")))
                n = int(target.add(ts, 1, window))
                text = flow_evidence(event)
                if target.touch(ts, window, text):
                    target.sources.clear()
                if len(target.sources) < MAX_SOURCES_SAMPLED:
                    target.sources[src] = None
                new = target.due(n, cfg.syn_threshold)
                if new:
                    alerts.append(self._syn_alert(target, n, new, event))
            source = self._sources.get(src)
            pkts = f.get("source.packets")
            flows, packets = source.add(ts, pkts if isinstance(pkts, int) else 0, window)
            if flows > max_flows / 2 or packets > max_packets / 2:  # evidence near the top
                source.touch(ts, window, text or flow_evidence(event))
                score = max(int(flows * 1000 / max_flows), int(packets * 1000 / max_packets))
                if source.due(score, 1000) and not self._ignore.contains_text(src):
                    alerts.append(self._rate_alert(source, flows, packets, event))
        cutoff = newest(events) - 2 * window
        self._targets.prune(cutoff, last_of)
        self._sources.prune(cutoff, lambda s: s.begin + window)
        evicted = self._targets.take_evicted() + self._sources.take_evicted()
        self._counters.done(len(events), len(alerts), evicted)
        return alerts

    def _syn_alert(self, target: _Target, n: int, new: int, event: Event) -> Alert:
        f = event.fields
        dst, port = f.get("destination.ip"), f.get("destination.port")
        nsrc = len(target.sources)
        more = "+" if nsrc >= MAX_SOURCES_SAMPLED else ""
        fields: dict[str, Any] = {
            "destination.ip": dst, "destination.port": port, "network.transport": "tcp",
            "ronda.flood.count": n, "ronda.flood.distinct_sources": nsrc,
            "ronda.flood.sources": list(target.sources)[-SAMPLES:],
        }
        if nsrc == 1:
            fields["source.ip"] = f.get("source.ip")
        ep = target.episode
        return Alert(
            rule=SYN_FLOOD, severity=self.config.severity,
            message=(f"SYN flood against {dst}:{port}: {n} half-open connections from "
                     f"{nsrc}{more} sources in {self.config.window:g}s"),
            first_seen=ep.start, last_seen=ep.last, key=f"{dst}:{port}", count=new,
            techniques=SYN_TECHNIQUES, fields=fields, evidence=tuple(ep.evidence),
            sensor=self.ctx.sensor, detector=self.name, source=event.source)

    def _rate_alert(self, source: TwoWindows, flows: float, packets: float,
                    event: Event) -> Alert:
        src = event.fields["source.ip"]
        window = self.config.window
        fps, pps = flows / window, packets / window
        ep = source
        return Alert(
            rule=RATE_FLOOD, severity=self.config.severity,
            message=(f"flood from {src}: {fps:.0f} flows/s, {pps:.0f} packets/s over "
                     f"{window:g}s"),
            first_seen=ep.start, last_seen=ep.last, key=str(src), count=1,
            techniques=RATE_TECHNIQUES,
            fields={"source.ip": src, "ronda.flood.flows_per_second": round(fps, 1),
                    "ronda.flood.packets_per_second": round(pps, 1)},
            evidence=tuple(ep.evidence), sensor=self.ctx.sensor, detector=self.name,
            source=event.source)
