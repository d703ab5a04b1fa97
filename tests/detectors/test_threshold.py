"""ThresholdDetector semantics: counting, windows, groups, re-arming, bounds."""

from __future__ import annotations

import logging
import random
from pathlib import Path
from typing import Any

from detectors.threshold import ThresholdConfig, ThresholdDetector
from ronda.clock import ManualClock
from ronda.component import Context
from ronda.metrics import Metrics
from ronda.schema import Event, Severity

T0 = 1_700_000_000.0

BRUTE = """
- id: test-brute
  name: Test brute force
  description: failed logins
  category: brute-force
  severity: high
  technique: T1110.001
  dataset: sshd.auth
  where: {event.action: ssh_login, event.outcome: failure}
  group_by: [source.ip]
  window: 60s
  threshold: 10
  message: "brute force from {source.ip}: {count} failed logins in {window}"
"""

SWEEP = """
- id: test-sweep
  name: Test sweep
  category: brute-force
  severity: medium
  technique: [T1110.003]
  dataset: sshd.auth
  where: {event.outcome: failure}
  group_by: source.ip
  distinct: user.name
  window: 5m
  threshold: 5
"""


def make_ctx(tmp_path: Path) -> Context:
    return Context(
        sensor="gw-01",
        clock=ManualClock(T0),
        metrics=Metrics(),
        state_dir=tmp_path / "state",
        log=logging.getLogger("test.threshold"),
        base_dir=tmp_path,
    )


def make_detector(
    tmp_path: Path, rules: str, max_groups: int = 100_000, ctx: Context | None = None
) -> ThresholdDetector:
    (tmp_path / "rules.yml").write_text(rules)
    config = ThresholdConfig(type="threshold", rules=["rules.yml"], max_groups=max_groups)
    det = ThresholdDetector("thr", config, ctx or make_ctx(tmp_path))
    det.reload()
    return det


def ssh(ts: float, ip: str = "203.0.113.5", user: str = "root", outcome: str = "failure",
        **extra: Any) -> Event:
    fields: dict[str, Any] = {
        "source.ip": ip,
        "user.name": user,
        "event.outcome": outcome,
        "event.action": "ssh_login",
        "ronda.ssh.invalid_user": False,
        **extra,
    }
    line = f"Failed password for {user} from {ip} at {ts}"
    return Event(dataset="sshd.auth", timestamp=ts, fields=fields, message=line, source="auth")


def test_fires_at_exactly_the_threshold(tmp_path: Path) -> None:
    det = make_detector(tmp_path, BRUTE)
    events = [ssh(T0 + i) for i in range(10)]
    assert det.process(events[:9]) == []
    alerts = det.process(events[9:])
    assert len(alerts) == 1
    alert = alerts[0]
    assert alert.rule.id == "test-brute"
    assert alert.rule.ruleset == "ronda-thresholds"
    assert alert.rule.category == "brute-force"
    assert alert.rule.description == "failed logins"
    assert alert.severity is Severity.HIGH
    assert alert.techniques == ("T1110.001",)
    assert alert.message == "brute force from 203.0.113.5: 10 failed logins in 60s"
    assert alert.first_seen == T0
    assert alert.last_seen == T0 + 9
    assert alert.key == "203.0.113.5"
    assert alert.fields == {"source.ip": "203.0.113.5", "user.name": "root"}
    assert alert.evidence == tuple(e.message for e in events[5:])
    assert alert.count == 1
    assert (alert.sensor, alert.detector, alert.source) == ("gw-01", "thr", "auth")


def test_events_spread_beyond_the_window_do_not_fire(tmp_path: Path) -> None:
    det = make_detector(tmp_path, BRUTE)
    # 7 s apart: any 60 s window holds at most 9 of them.
    assert det.process([ssh(T0 + 7 * i) for i in range(50)]) == []


def test_window_edges_are_inclusive(tmp_path: Path) -> None:
    rules = BRUTE.replace("threshold: 10", "threshold: 2")
    det = make_detector(tmp_path, rules)
    assert len(det.process([ssh(T0), ssh(T0 + 60)])) == 1
    assert det.process([ssh(T0 + 200), ssh(T0 + 260.001)]) == []


def test_window_slides(tmp_path: Path) -> None:
    det = make_detector(tmp_path, BRUTE)
    # 8 early events fall out of the window before the burst completes.
    assert det.process([ssh(T0 + i) for i in range(8)]) == []
    assert det.process([ssh(T0 + 100 + i) for i in range(9)]) == []
    alerts = det.process([ssh(T0 + 109)])
    assert len(alerts) == 1
    assert alerts[0].first_seen == T0 + 100


def test_group_by_keeps_sources_apart(tmp_path: Path) -> None:
    det = make_detector(tmp_path, BRUTE)
    mixed = [ssh(T0 + i, ip=("198.51.100.1" if i % 2 else "198.51.100.2")) for i in range(18)]
    assert det.process(mixed) == []
    alerts = det.process([ssh(T0 + 18, ip="198.51.100.2"), ssh(T0 + 19, ip="198.51.100.2")])
    assert [a.key for a in alerts] == ["198.51.100.2"]


def test_group_by_several_fields(tmp_path: Path) -> None:
    rules = BRUTE.replace("group_by: [source.ip]", "group_by: [source.ip, user.name]")
    det = make_detector(tmp_path, rules)
    assert det.process([ssh(T0 + i, user=f"u{i % 2}") for i in range(18)]) == []
    alerts = det.process([ssh(T0 + 18, user="u0"), ssh(T0 + 19, user="u1")])
    assert [a.key for a in alerts] == ["203.0.113.5|u0", "203.0.113.5|u1"]
    assert alerts[0].fields["user.name"] == "u0"


def test_event_without_a_group_field_is_not_counted(tmp_path: Path) -> None:
    det = make_detector(tmp_path, BRUTE)
    events = [ssh(T0 + i) for i in range(10)]
    for e in events:
        del e.fields["source.ip"]
    assert det.process(events) == []
    assert det.group_counts() == {"test-brute": 0}


def test_rearms_after_firing(tmp_path: Path) -> None:
    det = make_detector(tmp_path, BRUTE)
    events = [ssh(T0 + i) for i in range(35)]
    alerts = det.process(events)
    assert len(alerts) == 3
    assert [a.first_seen for a in alerts] == [T0, T0 + 10, T0 + 20]
    assert [a.last_seen for a in alerts] == [T0 + 9, T0 + 19, T0 + 29]
    assert len({a.id for a in alerts}) == 3
    assert det.process([ssh(T0 + 35 + i) for i in range(4)]) == []
    assert len(det.process([ssh(T0 + 39)])) == 1


def test_distinct_counts_values_not_events(tmp_path: Path) -> None:
    det = make_detector(tmp_path, SWEEP)
    repeated = [ssh(T0 + i, user=f"user{i % 4}") for i in range(40)]
    assert det.process(repeated) == []
    alerts = det.process([ssh(T0 + 41, user="oracle")])
    assert len(alerts) == 1
    alert = alerts[0]
    assert alert.key == "203.0.113.5"
    assert alert.fields["user.name"] == ["oracle", "user3", "user2", "user1", "user0"]
    assert alert.message == "Test sweep: 5 distinct user.name from 203.0.113.5 in 5m"
    assert alert.first_seen == T0 + 36  # earliest last-seen of the counted values
    assert alert.last_seen == T0 + 41
    assert alert.techniques == ("T1110.003",)


def test_distinct_values_expire_with_the_window(tmp_path: Path) -> None:
    det = make_detector(tmp_path, SWEEP)
    assert det.process([ssh(T0 + i, user=f"a{i}") for i in range(4)]) == []
    # 10 minutes later the first four have expired: four more names are not enough.
    assert det.process([ssh(T0 + 600 + i, user=f"b{i}") for i in range(4)]) == []
    assert len(det.process([ssh(T0 + 610, user="b9")])) == 1


def test_distinct_event_without_the_field_is_not_counted(tmp_path: Path) -> None:
    det = make_detector(tmp_path, SWEEP)
    events = [ssh(T0 + i, user=f"u{i}") for i in range(6)]
    for e in events:
        del e.fields["user.name"]
    assert det.process(events) == []


def test_dataset_filter(tmp_path: Path) -> None:
    det = make_detector(tmp_path, BRUTE)
    events = [ssh(T0 + i) for i in range(10)]
    for e in events:
        e.dataset = "syslog"
    assert det.process(events) == []
    rules = BRUTE.replace("dataset: sshd.auth", "dataset: [syslog, sshd.auth]")
    det = make_detector(tmp_path, rules)
    assert len(det.process(events)) == 1


def test_where_must_hold(tmp_path: Path) -> None:
    det = make_detector(tmp_path, BRUTE)
    assert det.process([ssh(T0 + i, outcome="success") for i in range(20)]) == []


def test_where_operators_in_a_rule(tmp_path: Path) -> None:
    rules = """
- id: web-errors
  name: web errors
  category: scanner
  severity: low
  where:
    http.response.status_code: {gte: 400, lt: 500, ne: [401, 407]}
    url.path: {prefix: [/wp-, /admin]}
    user_agent.original: {exists: true}
    http.request.method: {in: [GET, HEAD]}
  group_by: [source.ip]
  window: 1m
  threshold: 3
"""
    det = make_detector(tmp_path, rules)

    def web(ts: float, status: Any, path: str = "/wp-login.php", method: str = "GET",
            agent: str | None = "curl") -> Event:
        fields: dict[str, Any] = {"source.ip": "192.0.2.9", "http.response.status_code": status,
                                  "url.path": path, "http.request.method": method}
        if agent is not None:
            fields["user_agent.original"] = agent
        return Event("nginx.access", ts, fields, f"{method} {path} {status}", "web")

    misses = [
        web(T0, 500), web(T0, 399), web(T0, 401), web(T0, 407), web(T0, 404, path="/index"),
        web(T0, 404, method="POST"), web(T0, 404, agent=None), web(T0, "abc"), web(T0, True),
    ]
    assert det.process(misses) == []
    hits = [web(T0 + 1, 404), web(T0 + 2, "403", path="/admin/x"), web(T0 + 3, 499.0)]
    assert len(det.process(hits)) == 1


def test_out_of_order_events_are_tolerated(tmp_path: Path) -> None:
    det = make_detector(tmp_path, BRUTE)
    times = [T0 + i for i in range(10)]
    random.Random(7).shuffle(times)
    alerts = det.process([ssh(t) for t in times])
    assert len(alerts) == 1
    assert alerts[0].first_seen == T0
    assert alerts[0].last_seen == T0 + 9


def test_late_event_older_than_the_window_is_ignored(tmp_path: Path) -> None:
    det = make_detector(tmp_path, BRUTE)
    assert det.process([ssh(T0 + 100 + i) for i in range(9)]) == []
    assert det.process([ssh(T0)]) == []  # 100 s late: outside the group's window
    assert len(det.process([ssh(T0 + 95)])) == 1  # 13 s late: still inside


def test_distinct_out_of_order(tmp_path: Path) -> None:
    det = make_detector(tmp_path, SWEEP)
    names = [(T0 + 50, "a"), (T0 + 10, "b"), (T0 + 40, "c"), (T0 + 20, "d"), (T0 + 30, "e")]
    alerts = det.process([ssh(t, user=u) for t, u in names])
    assert len(alerts) == 1
    assert alerts[0].first_seen == T0 + 10
    assert alerts[0].last_seen == T0 + 50


def test_context_fields_are_copied(tmp_path: Path) -> None:
    det = make_detector(tmp_path, BRUTE)
    extra: dict[str, Any] = {
        "host.hostname": "web-01", "destination.ip": "10.0.0.2", "destination.port": 22,
        "source.port": 50000, "url.domain": "diskominfo.example.go.id",
    }
    alerts = det.process([ssh(T0 + i, **extra) for i in range(10)])
    assert alerts[0].fields == {
        "source.ip": "203.0.113.5",
        "user.name": "root",
        "host.hostname": "web-01",
        "destination.ip": "10.0.0.2",
        "destination.port": 22,
        "url.domain": "diskominfo.example.go.id",
    }
    doc = alerts[0].to_ecs()
    assert doc["destination"] == {"ip": "10.0.0.2", "port": 22}
    assert doc["rule"]["id"] == "test-brute"


def test_message_template_details(tmp_path: Path) -> None:
    rules = BRUTE.replace(
        '"brute force from {source.ip}: {count} failed logins in {window}"',
        '"{{literal}} {name} {id} {threshold} {key} {host.hostname} {count}/{threshold}"',
    )
    det = make_detector(tmp_path, rules)
    alerts = det.process([ssh(T0 + i) for i in range(10)])
    assert alerts[0].message == "{literal} Test brute force test-brute 10 203.0.113.5 - 10/10"


def test_idle_groups_are_pruned(tmp_path: Path) -> None:
    det = make_detector(tmp_path, BRUTE)
    det.process([ssh(T0, ip=f"198.51.100.{i}") for i in range(100)])
    assert det.group_counts() == {"test-brute": 100}
    det.process([ssh(T0 + 1000, ip="192.0.2.1")])
    assert det.group_counts() == {"test-brute": 1}


def test_metrics(tmp_path: Path) -> None:
    ctx = make_ctx(tmp_path)
    det = make_detector(tmp_path, BRUTE + SWEEP.replace("- id", "\n- id"), ctx=ctx)
    det.process([ssh(T0 + i, user=f"u{i}") for i in range(10)])
    m = ctx.metrics
    assert m.value("ronda_received_total", component="thr") == 10
    assert m.value("ronda_emitted_total", component="thr") == 3  # 1 brute force + 2 sweeps
    assert m.value("ronda_rules_loaded", detector="thr") == 2


def test_state_stays_bounded_under_a_million_sources(tmp_path: Path) -> None:
    rules = """
- id: storm
  name: 404 storm
  category: scanner
  severity: medium
  dataset: nginx.access
  where: {http.response.status_code: 404}
  group_by: [source.ip]
  window: 60s
  threshold: 30
"""
    ctx = make_ctx(tmp_path)
    det = make_detector(tmp_path, rules, max_groups=1000, ctx=ctx)
    fields_attacker = {"source.ip": "203.0.113.66", "http.response.status_code": 404}
    alerts = []
    n = 0
    for start in range(0, 1_000_000, 20_000):
        batch = []
        for i in range(start, start + 20_000):
            ts = T0 + i * 0.001
            ip = f"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}"
            batch.append(Event("nginx.access", ts, {"source.ip": ip,
                                                    "http.response.status_code": 404}, ""))
            if i % 100 == 0 and i < 3000:  # one real attacker amid the flood
                batch.append(Event("nginx.access", ts, dict(fields_attacker), "attack"))
        n += len(batch)
        alerts.extend(det.process(batch))
        assert det.group_counts()["storm"] <= 1000
    assert [a.key for a in alerts] == ["203.0.113.66"]
    evicted = ctx.metrics.value("ronda_dropped_total", component="thr", reason="group_evicted")
    assert 990_000 <= evicted <= 1_000_000
    assert ctx.metrics.value("ronda_received_total", component="thr") == n


def test_reload_keeps_state_of_unchanged_rules(tmp_path: Path) -> None:
    det = make_detector(tmp_path, BRUTE + SWEEP.replace("- id", "\n- id"))
    det.process([ssh(T0 + i, user=f"u{i % 2}") for i in range(9)])
    # Cosmetic change to test-brute (kept), counting change to test-sweep (reset).
    changed = BRUTE.replace("severity: high", "severity: critical") + SWEEP.replace(
        "threshold: 5", "threshold: 3").replace("- id", "\n- id")
    (tmp_path / "rules.yml").write_text(changed)
    assert det.reload() == 2
    assert det.group_counts() == {"test-brute": 1, "test-sweep": 0}
    alerts = det.process([ssh(T0 + 9, user="u2")])
    assert [(a.rule.id, a.severity) for a in alerts] == [("test-brute", Severity.CRITICAL)]
