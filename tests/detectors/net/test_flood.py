"""SYN floods (spoofed sources) and per-source rate floods."""

from __future__ import annotations

from detectors.net.flood import FloodConfig, FloodDetector
from ronda.schema import Event

from .helpers import T0, flow, make_ctx, web_session

VICTIM = "10.0.0.80"


def detector(**kw: object) -> FloodDetector:
    cfg = FloodConfig.model_validate({"type": "flood", **kw})
    det = FloodDetector("flood", cfg, make_ctx())
    det.reload()
    return det


def spoofed(i: int) -> str:
    return f"{1 + (i >> 16) % 200}.{i >> 8 & 255}.{i & 255}.7"


def test_spoofed_syn_flood_is_one_alert_per_destination() -> None:
    det = detector(syn_threshold=1000, window="10s")
    events = [flow(T0 + i * 0.004, spoofed(i), VICTIM, 80, sport=1024 + i % 60000, hist="Sh",
                   state="S1") for i in range(1500)]
    alerts = det.process(events)
    assert len(alerts) == 1
    a = alerts[0]
    assert a.rule.id == "ronda-flood-syn" and a.rule.category == "dos"
    assert a.key == f"{VICTIM}:80" and a.count == 1000
    assert a.fields["ronda.flood.distinct_sources"] == 256  # sampled, "256+" in the message
    assert "256+ sources" in a.message and "source.ip" not in a.fields
    assert "T1499.001" in a.techniques


def test_syn_flood_below_rate_and_completed_connections_do_not_alert() -> None:
    det = detector(syn_threshold=1000, window="10s")
    slow = [flow(T0 + i * 0.1, spoofed(i), VICTIM, 80) for i in range(1500)]  # 100/10s
    busy = [web_session(T0 + i * 0.001, spoofed(i), VICTIM, 2000 + i) for i in range(5000)]
    assert det.process(slow) == []
    assert det.process(busy) == []


def test_source_rate_flood() -> None:
    det = detector(source_flows_per_second=100, window="10s")
    events = [flow(T0 + i * 0.002, "203.0.113.5", VICTIM, 53, transport="udp", state="S0",
                   hist="D", spkts=1) for i in range(3000)]
    alerts = det.process(events)
    assert alerts and alerts[0].rule.id == "ronda-flood-source-rate"
    assert alerts[0].key == "203.0.113.5" and "T1498.001" in alerts[0].techniques
    assert len({a.id for a in alerts}) == 1  # updates, not new alerts


def test_packet_rate_flood_and_ignore() -> None:
    events = [flow(T0 + i * 0.1, "203.0.113.5", VICTIM, 443, state="SF", hist="ShADadFf",
                   spkts=5_000, dpkts=10) for i in range(100)]
    assert detector(source_packets_per_second=10_000).process(events)
    assert detector(source_packets_per_second=10_000,
                    ignore_sources=["203.0.113.0/24"]).process(events) == []
    # a normal client well under the rate
    normal = [web_session(T0 + i, "203.0.113.6", VICTIM, 3000 + i) for i in range(100)]
    assert detector().process(normal) == []


def test_rate_is_averaged_over_the_window_and_expires() -> None:
    def burst(start: float, seconds: float, per_second: int) -> list[Event]:
        n = int(seconds * per_second)
        return [flow(start + i / per_second, "203.0.113.5", VICTIM, 80, state="SF",
                     hist="ShADadFf", spkts=5, dpkts=5) for i in range(n)]

    # 150 flows/s for one second is 15/s over a 10 s window: no flood
    assert detector(source_flows_per_second=100, window="10s").process(burst(T0, 1, 150)) == []
    # sustained for 12 s it is
    det = detector(source_flows_per_second=100, window="10s")
    assert det.process(burst(T0, 12, 150))
    # quiet for a minute, then one more second: the old flows are out of the window
    assert det.process(burst(T0 + 80, 1, 150)) == []
    assert det.group_counts()["sources"] == 1
