"""SSH brute force as many short connections."""

from __future__ import annotations

from detectors.net.ssh_conn_bf import SshConnBfConfig, SshConnBfDetector
from ronda.schema import Event

from .helpers import T0, flow, make_ctx

ATTACKER = "203.0.113.45"
SERVER = "10.0.0.22"


def detector(**kw: object) -> SshConnBfDetector:
    cfg = SshConnBfConfig.model_validate({"type": "ssh_conn_bf", **kw})
    det = SshConnBfDetector("ssh-flows", cfg, make_ctx())
    det.reload()
    return det


def attempt(t: float, src: str = ATTACKER, port: int = 22, duration: float = 3.0,
            size: int = 4_000) -> Event:
    return flow(t, src, SERVER, port, sport=40000 + int(t) % 20000, state="SF",
                hist="ShAdDaFf", duration=duration, sbytes=size // 2, dbytes=size // 2,
                spkts=12, dpkts=12)


def test_many_short_connections_alert() -> None:
    det = detector(threshold=20, window="5m")
    alerts = det.process([attempt(T0 + i * 5) for i in range(25)])
    assert len(alerts) == 1
    a = alerts[0]
    assert a.rule.category == "brute-force" and a.techniques == ("T1110",)
    assert a.key == ATTACKER and a.count == 20 and a.fields["destination.ip"] == SERVER
    assert a.evidence[-1].startswith(f"tcp {ATTACKER}:") and "SF ShAdDaFf" in a.evidence[-1]


def test_sessions_scans_other_ports_and_slow_rates_do_not_alert() -> None:
    det = detector(threshold=20, window="5m")
    long_sessions = [attempt(T0 + i * 5, duration=600) for i in range(30)]
    big = [attempt(T0 + i * 5, size=5_000_000) for i in range(30)]
    other_port = [attempt(T0 + i * 5, port=443) for i in range(30)]
    scans = [flow(T0 + i, ATTACKER, SERVER, 22) for i in range(30)]  # S0: a scan's job
    slow = [attempt(T0 + i * 60) for i in range(30)]  # one a minute: 5 per window
    for events in (long_sessions, big, other_port, scans, slow):
        assert detector(threshold=20).process(events) == []
    assert det.process(slow) == []


def test_custom_ports_and_window_expiry() -> None:
    det = detector(threshold=5, ports=[2222], window="1m")
    assert det.process([attempt(T0 + i * 30, port=2222) for i in range(10)]) == []
    assert det.process([attempt(T0 + 1000 + i, port=2222) for i in range(5)])
