"""Port scans: vertical / horizontal, scan types, legitimate traffic, windows."""

from __future__ import annotations

from typing import Any

from detectors.net.portscan import PortscanConfig, PortscanDetector
from ronda.schema import Event

from .helpers import T0, evicted, flow, make_ctx, web_session

SCANNER = "198.51.100.7"
TARGET = "10.0.0.9"


def detector(**kw: object) -> PortscanDetector:
    cfg = PortscanConfig.model_validate({"type": "portscan", **kw})
    det = PortscanDetector("portscan", cfg, make_ctx())
    det.reload()
    return det


def vertical(n: int, hist: str = "S", state: str = "S0", t: float = T0, step: float = 0.01,
             **extra: Any) -> list[Event]:
    return [flow(t + i * step, SCANNER, TARGET, 1 + i, sport=50000 + i, state=state,
                 hist=hist, **extra) for i in range(n)]


def test_vertical_syn_scan_alerts_once_with_ports_and_evidence() -> None:
    det = detector(vertical_threshold=25)
    alerts = det.process(vertical(30))
    assert len(alerts) == 1
    a = alerts[0]
    assert a.rule.id == "ronda-portscan-vertical" and a.rule.category == "port-scan"
    assert a.techniques == ("T1046",) and a.key == SCANNER
    assert a.fields["ronda.scan.type"] == "syn"
    assert a.fields["destination.ip"] == TARGET and a.count == 25
    assert len(a.fields["ronda.scan.ports"]) == 10
    assert a.evidence[-1] == f"tcp {SCANNER}:50024 -> {TARGET}:25 S0 S"
    assert a.first_seen == T0 and a.last_seen == T0 + 24 * 0.01
    assert "SYN" in a.message


def test_updates_keep_the_alert_identity_and_grow() -> None:
    det = detector(vertical_threshold=25)
    alerts = det.process(vertical(100))
    # counts are what is new since the last alert: the pipeline's aggregator adds them up
    assert [a.count for a in alerts] == [25, 25, 50]
    assert [a.fields["ronda.scan.count"] for a in alerts] == [25, 50, 100]
    assert len({a.id for a in alerts}) == 1


def test_horizontal_rejected_scan() -> None:
    det = detector(horizontal_threshold=20)
    events = [flow(T0 + i, SCANNER, f"10.0.1.{i}", 445, state="REJ", hist="Sr")
              for i in range(1, 30)]
    alerts = det.process(events)
    assert [a.rule.id for a in alerts] == ["ronda-portscan-horizontal"]
    assert alerts[0].fields["destination.port"] == 445
    assert len(alerts[0].fields["ronda.scan.hosts"]) == 10


def test_scan_types_from_history_and_flags() -> None:
    cases = [("F", "OTH", {}, "fin"), ("", "OTH", {}, "null"), ("Fr", "RSTRH", {}, "fin"),
             ("F", "OTH", {"ronda.flow.orig_flags": 0x29}, "xmas"),
             ("", "OTH", {"ronda.flow.orig_flags": 0}, "null"),
             ("ShAR", "RSTO", {}, "connect"), ("ShR", "RSTO", {}, "syn")]
    for hist, state, extra, kind in cases:
        det = detector(vertical_threshold=10)
        alerts = det.process(vertical(10, hist=hist, state=state, **extra))
        assert alerts and alerts[0].fields["ronda.scan.type"] == kind, (hist, extra)


def test_udp_scan_without_replies() -> None:
    det = detector(vertical_threshold=10)
    events = vertical(12, hist="D", state="S0", transport="udp")
    alerts = det.process(events)
    assert alerts and alerts[0].fields["ronda.scan.type"] == "udp"
    # answered UDP flows (a DNS server replying) do not count
    det = detector(vertical_threshold=10)
    assert det.process(vertical(12, hist="Dd", state="SF", transport="udp", dpkts=1)) == []


def test_busy_web_server_is_not_a_scan() -> None:
    det = detector(vertical_threshold=10, horizontal_threshold=10)
    events = [web_session(T0 + i * 0.01, f"203.0.113.{i % 250}", TARGET, 30000 + i)
              for i in range(5000)]
    # one client opening many connections to many of our servers' 443: all complete
    events += [web_session(T0 + i, "203.0.113.99", f"10.0.2.{i}", 40000 + i)
               for i in range(100)]
    # the same with a few RSTs after data: still not a scan
    events += [flow(T0 + i, "203.0.113.98", f"10.0.3.{i}", 443, state="RSTR",
                    hist="ShADadr", dbytes=900) for i in range(100)]
    assert det.process(events) == []


def test_window_expiry() -> None:
    det = detector(vertical_threshold=25, window="5m")
    first = vertical(20)
    later = [flow(T0 + 400 + i, SCANNER, TARGET, 100 + i) for i in range(20)]
    assert det.process(first) == []
    assert det.process(later) == []


def test_ignored_source_and_state_bound() -> None:
    det = detector(vertical_threshold=5, ignore_sources=["198.51.100.0/24"])
    assert det.process(vertical(10)) == []
    det = detector(max_groups=100)
    det.process([flow(T0 + i * 1e-3, f"100.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}",
                      TARGET, 80) for i in range(5000)])
    assert det.group_counts() == {"vertical": 100, "horizontal": 100}
    assert evicted(det.ctx, "portscan") == 2 * (5000 - 100)


def test_rule_info() -> None:
    ids = [ref.id for ref, _ in detector().rule_info()]
    assert ids == ["ronda-portscan-vertical", "ronda-portscan-horizontal"]


def test_idle_groups_are_pruned_without_counting_evictions() -> None:
    det = detector(window="1m")
    det.process([flow(T0 + i, f"198.51.100.{i}", TARGET, 80) for i in range(50)])
    assert det.group_counts() == {"vertical": 50, "horizontal": 50}
    det.process([flow(T0 + 1000, SCANNER, TARGET, 81)])
    assert det.group_counts() == {"vertical": 1, "horizontal": 1}
    assert evicted(det.ctx, "portscan") == 0
