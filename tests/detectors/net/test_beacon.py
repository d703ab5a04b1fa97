"""Beaconing: regular intervals from an inside host to one destination."""

from __future__ import annotations

import random

import pytest
from pydantic import ValidationError

from detectors.net.beacon import BeaconConfig, BeaconDetector, jitter
from ronda.schema import Event

from .helpers import T0, flow, make_ctx

PC = "192.168.10.23"
C2 = "203.0.113.66"


def detector(**kw: object) -> BeaconDetector:
    cfg = BeaconConfig.model_validate({"type": "beacon", **kw})
    det = BeaconDetector("beacon", cfg, make_ctx())
    det.reload()
    return det


def conn(t: float, src: str = PC, dst: str = C2, port: int = 443) -> Event:
    return flow(t, src, dst, port, state="SF", hist="ShADadFf", duration=0.4, sbytes=800,
                dbytes=1200)


def test_regular_callbacks_alert() -> None:
    rng = random.Random(3)
    events = [conn(T0 + i * 60 + rng.uniform(-3, 3)) for i in range(12)]
    alerts = detector(min_connections=8).process(events)
    assert alerts
    a = alerts[0]
    assert a.rule.category == "c2" and a.techniques == ("T1071",)
    assert a.key == f"{PC}->{C2}:443" and a.count == 8
    assert 55 < a.fields["ronda.beacon.period"] < 65
    assert a.fields["ronda.beacon.jitter"] <= 0.15
    assert abs(a.first_seen - events[0].fields["event.duration"] / 1e9 - events[0].timestamp) < 1


def test_missed_beacon_still_regular() -> None:
    times = [T0 + i * 300 for i in range(12) if i != 5]
    assert detector().process([conn(t) for t in times])


def test_human_browsing_is_not_a_beacon() -> None:
    rng = random.Random(7)
    t = T0
    events = []
    for _ in range(60):  # bursts of clicks, then reading for a while
        t += rng.choice([2.0, 5.0, 8.0, 40.0, 90.0, 300.0, 700.0]) * rng.uniform(0.5, 1.5)
        events.append(conn(t))
    assert detector().process(events) == []


def test_scope_rules() -> None:
    regular = [T0 + i * 60 for i in range(12)]
    assert detector().process([conn(t, src="8.8.4.4") for t in regular]) == []  # outside
    assert detector().process([conn(t, dst="10.1.1.1") for t in regular]) == []  # internal
    assert detector(outbound_only=False).process([conn(t, dst="10.1.1.1") for t in regular])
    assert detector().process([conn(t, port=123) for t in regular]) == []  # NTP
    assert detector(ignore_destinations=[C2]).process([conn(t) for t in regular]) == []
    assert detector(min_period="2m").process([conn(t) for t in regular]) == []
    # parallel connections in one burst count once
    burst = [conn(t + d) for t in regular for d in (0.0, 0.1, 0.2)]
    assert detector().process(burst)[0].count == 8


def test_jitter_measure() -> None:
    period, jit = jitter([0, 10, 20, 30, 40])
    assert period == 10 and jit == 0
    assert jitter([1, 1, 1])[1] == float("inf")


def test_pair_bound() -> None:
    det = detector(max_pairs=50, max_timestamps=8)
    det.process([conn(T0 + i, dst=f"203.0.{i >> 8 & 255}.{i & 255}") for i in range(1000)])
    assert det.group_counts() == {"pairs": 50}
    assert det.ctx.metrics.value("ronda_dropped_total", component="beacon",
                                 reason="group_evicted") == 950


def test_bad_cidr_is_a_config_error() -> None:
    with pytest.raises(ValidationError, match="not an IP address or CIDR: 'bogus'"):
        BeaconConfig.model_validate({"type": "beacon", "inside": ["10.0.0.0/8", "bogus"]})
