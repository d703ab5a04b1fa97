"""SSH brute force seen on the wire: many short connections from one source to SSH.

Configured as::

    detectors:
      ssh-flows: {type: ssh_conn_bf, window: 5m, threshold: 20, ports: [22]}

Counts TCP ``network.flow`` events to one of ``ports`` that the server accepted (its
SYN+ACK, history letter ``h``) and that stayed short (``event.duration`` at most
``max_duration``, ``network.bytes`` at most ``max_bytes``): a failed password round trip
is a few kilobytes and a few seconds; an interactive session or a file copy is neither.
Rejected or unanswered attempts are port scans, not brute force, and do not count.
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
    flow_evidence,
    last_of,
    newest,
)
from detectors.net.config_types import CidrList
from detectors.net.netset import NetSet
from ronda.component import Context, Detector, DetectorConfig
from ronda.durations import Duration, Size
from ronda.schema import Alert, Event, RuleRef, Severity

RULE = RuleRef(
    id="ronda-ssh-conn-brute-force", name="SSH brute force (many short connections)",
    ruleset="ronda-net", category="brute-force",
    description="One source opened many short SSH connections: password guessing.")
TECHNIQUES = ("T1110",)


class SshConnBfConfig(DetectorConfig):
    type: Literal["ssh_conn_bf"]
    window: Duration = 300.0
    threshold: int = Field(default=20, ge=1)
    """Short connections from one source within the window."""
    ports: list[int] = Field(default_factory=lambda: [22])
    max_duration: Duration = 30.0
    """A connection longer than this is not a login attempt."""
    max_bytes: Size = 20_000
    """A connection carrying more (both directions) is not a login attempt."""
    max_sources: int = Field(default=100_000, ge=1)
    severity: Severity = Severity.HIGH
    ignore_sources: CidrList = Field(default_factory=list)


class _Source(RateWindow):
    __slots__ = ("hosts",)

    def __init__(self) -> None:
        super().__init__()
        self.hosts: dict[str, None] = {}


class SshConnBfDetector(Detector):
    config_model = SshConnBfConfig
    config: SshConnBfConfig

    def __init__(self, name: str, config: SshConnBfConfig, ctx: Context) -> None:
        super().__init__(name, config, ctx)
        self._counters = Counters(name, ctx)
        self._ports = frozenset(config.ports)
        self._ignore = NetSet.parse(config.ignore_sources)
        self._sources: LruTable[str, _Source] = LruTable(config.max_sources, _Source)

    def reload(self) -> int:
        self._counters.rules_loaded.set(1)
        return 1

    def rule_info(self) -> list[tuple[RuleRef, Severity]]:
        return [(RULE, self.config.severity)]

    def group_counts(self) -> dict[str, int]:
        return {"sources": len(self._sources)}

    def short_login(self, f: dict[str, Any]) -> bool:
        if f.get("network.transport") != "tcp" or f.get("destination.port") not in self._ports:
            return False
        hist = f.get("ronda.flow.history")
        if not isinstance(hist, str) or "h" not in hist:
            return False
        duration = f.get("event.duration")
        if isinstance(duration, int | float) and duration > self.config.max_duration * 1e9:
            return False
        size = f.get("network.bytes")
        return not (isinstance(size, int) and size > self.config.max_bytes)

    def process(self, events: Sequence[Event]) -> list[Alert]:
        cfg = self.config
        alerts: list[Alert] = []
        for event in events:
            if event.dataset != "network.flow":
                continue
            f = event.fields
            src = f.get("source.ip")
            if src is None or not self.short_login(f):
                continue
            ts = event.timestamp
            group = self._sources.get(src)
            n = int(group.add(ts, 1, cfg.window))
            if group.touch(ts, cfg.window, flow_evidence(event)):
                group.hosts.clear()
            dst = f.get("destination.ip")
            if len(group.hosts) < SAMPLES and isinstance(dst, str):
                group.hosts[dst] = None
            new = group.due(n, cfg.threshold)
            if new and not self._ignore.contains_text(src):
                alerts.append(self._alert(group, n, new, event))
        self._sources.prune(newest(events) - 2 * cfg.window, last_of)
        self._counters.done(len(events), len(alerts), self._sources.take_evicted())
        return alerts

    def _alert(self, group: _Source, n: int, new: int, event: Event) -> Alert:
        f = event.fields
        src = f["source.ip"]
        hosts = list(group.hosts)
        fields: dict[str, Any] = {"source.ip": src, "destination.port": f.get("destination.port"),
                                  "network.transport": "tcp", "ronda.ssh.hosts": hosts}
        if len(hosts) == 1:
            fields["destination.ip"] = hosts[0]
        ep = group.episode
        return Alert(
            rule=RULE, severity=self.config.severity,
            message=(f"SSH brute force from {src}: {n} short connections to "
                     f"{', '.join(hosts)} in {self.config.window:g}s"),
            first_seen=ep.start, last_seen=ep.last, key=str(src), count=new,
            techniques=TECHNIQUES, fields=fields, evidence=tuple(ep.evidence),
            sensor=self.ctx.sensor, detector=self.name, source=event.source)
