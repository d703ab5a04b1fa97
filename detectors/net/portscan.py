"""Port scans from ``network.flow`` events: vertical (many ports on one host) and
horizontal (one port on many hosts), counting only unanswered or rejected attempts.

Configured as::

    detectors:
      portscan: {type: portscan, window: 5m, vertical_threshold: 25, horizontal_threshold: 25}

An attempt is a TCP flow that carried no payload either way and did not become a normal
connection (Zeek conn_state S0, REJ, RSTO, RSTOS0, RSTR, RSTRH, SH, SHR, OTH), or a UDP
flow that got no reply (S0). A busy web server's completed connections (SF with data)
never count. The scan type comes from ``ronda.flow.orig_flags`` (the originator's first
TCP flags) when the sensor sets it, else from the history letters: ``S`` only is a SYN
scan, ``S`` then ``A`` a connect scan, ``F`` a FIN scan (FIN+PSH+URG: XMAS), no flag
letter a NULL scan; UDP flows are UDP scans.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable, Sequence
from typing import Any, Literal

from pydantic import Field

from detectors.net.common import (
    NEG_INF,
    SAMPLES,
    Counters,
    DistinctWindow,
    LruTable,
    flow_evidence,
    last_of,
    newest,
)
from detectors.net.config_types import CidrList
from detectors.net.netset import NetSet
from ronda.component import Context, Detector, DetectorConfig
from ronda.durations import Duration
from ronda.schema import Alert, Event, RuleRef, Severity

FAILED_TCP = frozenset({"S0", "REJ", "RSTO", "RSTOS0", "RSTR", "RSTRH", "SH", "SHR", "OTH"})
RULESET = "ronda-net"
TECHNIQUES = ("T1046",)
VERTICAL = RuleRef(
    id="ronda-portscan-vertical", name="Vertical port scan", ruleset=RULESET,
    category="port-scan",
    description="One source tried many ports of one host without getting a connection.")
HORIZONTAL = RuleRef(
    id="ronda-portscan-horizontal", name="Horizontal port scan", ruleset=RULESET,
    category="port-scan",
    description="One source tried one port on many hosts without getting a connection.")
FLAG_KINDS = {0x02: "syn", 0x00: "null", 0x01: "fin", 0x29: "xmas", 0x10: "ack"}


class PortscanConfig(DetectorConfig):
    type: Literal["portscan"]
    window: Duration = 300.0
    """Sliding window for counting distinct ports / hosts."""
    vertical_threshold: int = Field(default=25, ge=2)
    """Distinct ports of one host (per source and transport) that make a vertical scan."""
    horizontal_threshold: int = Field(default=25, ge=2)
    """Distinct hosts on one port (per source and transport) that make a horizontal scan."""
    max_groups: int = Field(default=100_000, ge=1)
    """Groups kept per table (vertical, horizontal); least recently seen evicted beyond."""
    max_values: int = Field(default=1024, ge=1)
    """Distinct ports / hosts kept per group (the count saturates there)."""
    severity: Severity = Severity.MEDIUM
    ignore_sources: CidrList = Field(default_factory=list)
    """Addresses or CIDRs never reported as scanners (your own vulnerability scanner)."""


class _Scan(DistinctWindow):
    __slots__ = ("kinds",)

    def __init__(self) -> None:  # the parents' __init__ inlined: one per spoofed packet
        self.start = self.first = 0.0
        self.last = NEG_INF
        self.next_alert = self.reported = 0
        self.evidence: list[str] = []
        self.values: OrderedDict[Hashable, float] = OrderedDict()
        self.kinds: dict[str, int] = {}


def scan_kind(fields: dict[str, Any], transport: str) -> str:
    """syn, connect, fin, xmas, null, ack, udp or other."""
    if transport == "udp":
        return "udp"
    flags = fields.get("ronda.flow.orig_flags")
    if isinstance(flags, int):
        return FLAG_KINDS.get(flags & 0x3F, "other")
    hist = fields.get("ronda.flow.history") or ""
    orig = "".join(c for c in hist if c.isupper())
    if "S" in orig:
        return "connect" if "A" in orig else "syn"
    if "F" in orig:
        return "fin"
    if not orig:
        return "null"
    return "other"


def is_attempt(fields: dict[str, Any], transport: str) -> bool:
    """A probe that got no connection: see the module docstring."""
    state = fields.get("ronda.flow.state")
    if transport == "tcp":
        if state not in FAILED_TCP:
            return False
        hist = fields.get("ronda.flow.history") or ""
        return "D" not in hist and "d" not in hist
    if transport == "udp":
        return state == "S0" and not fields.get("destination.packets")
    return False


class PortscanDetector(Detector):
    config_model = PortscanConfig
    config: PortscanConfig

    def __init__(self, name: str, config: PortscanConfig, ctx: Context) -> None:
        super().__init__(name, config, ctx)
        self._counters = Counters(name, ctx)
        self._ignore = NetSet.parse(config.ignore_sources)
        self._kinds: dict[tuple[Any, ...], str] = {}
        self._vertical: LruTable[tuple[str, str, str], _Scan] = LruTable(
            config.max_groups, _Scan)
        self._horizontal: LruTable[tuple[str, int, str], _Scan] = LruTable(
            config.max_groups, _Scan)

    def reload(self) -> int:
        self._counters.rules_loaded.set(2)
        return 2

    def rule_info(self) -> list[tuple[RuleRef, Severity]]:
        return [(VERTICAL, self.config.severity), (HORIZONTAL, self.config.severity)]

    def group_counts(self) -> dict[str, int]:
        return {"vertical": len(self._vertical), "horizontal": len(self._horizontal)}

    def process(self, events: Sequence[Event]) -> list[Alert]:
        cfg = self.config
        window, max_values = cfg.window, cfg.max_values
        alerts: list[Alert] = []
        kinds = self._kinds
        for event in events:
            if event.dataset != "network.flow":
                continue
            f = event.fields
            transport = f.get("network.transport")
            if transport != "tcp" and transport != "udp":
                continue
            # what a flow's state, history and flags mean, computed once per combination
            ck = (f.get("ronda.flow.state"), f.get("ronda.flow.history"),
                  f.get("ronda.flow.orig_flags"), transport, not f.get("destination.packets"))
            kind = kinds.get(ck)
            if kind is None:
                kind = scan_kind(f, transport) if is_attempt(f, transport) else ""
                if len(kinds) < 4096:
                    kinds[ck] = kind
            if not kind:
                continue
            src, dst, dport = f.get("source.ip"), f.get("destination.ip"), f.get("destination.port")
            if src is None or dst is None or dport is None:
                continue
            ts = event.timestamp
            text = flow_evidence(event)
            group = self._vertical.get((src, dst, transport))
            n = group.add(dport, ts, window, max_values)
            new = self._observe(group, ts, kind, text, n, cfg.vertical_threshold, src)
            if new:
                alerts.append(self._alert(VERTICAL, group, n, new, event, kind_of(group),
                                          {"destination.ip": dst}))
            group = self._horizontal.get((src, dport, transport))
            n = group.add(dst, ts, window, max_values)
            new = self._observe(group, ts, kind, text, n, cfg.horizontal_threshold, src)
            if new:
                alerts.append(self._alert(HORIZONTAL, group, n, new, event, kind_of(group),
                                          {"destination.port": dport}))
        cutoff = newest(events) - 2 * window
        self._vertical.prune(cutoff, last_of)
        self._horizontal.prune(cutoff, last_of)
        evicted = self._vertical.take_evicted() + self._horizontal.take_evicted()
        self._counters.done(len(events), len(alerts), evicted)
        return alerts

    def _observe(self, group: _Scan, ts: float, kind: str, text: str, n: int,
                 threshold: int, src: str) -> int:
        kinds = group.kinds
        if group.touch(ts, self.config.window, text):
            kinds.clear()
        kinds[kind] = kinds.get(kind, 0) + 1
        new = group.due(n, threshold)
        return 0 if not new or self._ignore.contains_text(src) else new

    def _alert(self, ref: RuleRef, group: _Scan, n: int, new: int, event: Event, kind: str,
               extra: dict[str, Any]) -> Alert:
        f = event.fields
        src, transport = f["source.ip"], f["network.transport"]
        vertical = ref is VERTICAL
        sample = group.sample(SAMPLES)
        fields: dict[str, Any] = {"source.ip": src, "network.transport": transport, **extra,
                                  "ronda.scan.type": kind, "ronda.scan.count": n}
        fields["ronda.scan.ports" if vertical else "ronda.scan.hosts"] = sample
        if vertical:
            what = f"{n} {transport} ports of {f['destination.ip']}"
        else:
            what = f"{transport} port {f['destination.port']} on {n} hosts"
        window = f"{self.config.window:g}s"
        ep = group.episode
        return Alert(
            rule=ref, severity=self.config.severity,
            message=f"{ref.name} ({kind.upper()}) from {src}: {what} in {window}",
            first_seen=ep.start, last_seen=ep.last, key=str(src), count=new,
            techniques=TECHNIQUES, fields=fields, evidence=tuple(ep.evidence),
            sensor=self.ctx.sensor, detector=self.name, source=event.source)


def kind_of(group: _Scan) -> str:
    """The most frequent scan type of the group's attempts."""
    return max(group.kinds.items(), key=lambda kv: kv[1])[0] if group.kinds else "other"
