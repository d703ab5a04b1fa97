"""Paging through a real Alertmanager: a critical Ronda alert reaches the webhook within
5 seconds, its resolved notification follows when it goes quiet, and an unreachable
Alertmanager delays delivery but loses nothing."""

from __future__ import annotations

import json
import time
from pathlib import Path

from tests.integration.daemon import Daemon, free_port, wait_for, write_config
from tests.integration.promstack import Webhook, alertmanager

RULE_ID = "8d2f7a51-3c4e-4b7a-9f10-2e6d5c4b3a21"
# Three failed root logins from one address within a minute: a critical Sigma correlation.
RULE = f"""title: Failed root login
id: 4c1e9b2a-6f3d-4e8a-b7c5-0d9f8e7a6b51
name: t_root_login_failed
logsource: {{product: linux, service: sshd}}
detection:
  selection: {{event.outcome: failure, user.name: root}}
  condition: selection
level: low
---
title: Root password guessing
id: {RULE_ID}
description: Failed root logins from one address
tags: [ronda.category.brute-force, attack.credential-access, attack.t1110.001]
correlation:
  type: event_count
  rules: [t_root_login_failed]
  group-by: [source.ip]
  timespan: 60s
  condition: {{gte: 3}}
level: critical
"""


def _config(tmp: Path, log: Path, am_port: int) -> Path:
    rules = tmp / "rules"
    rules.mkdir(exist_ok=True)
    (rules / "r.yml").write_text(RULE)
    return write_config(tmp / "ronda.yaml", {
        "sensor": {"name": "gw-01"},
        "pipeline": {"aggregate_window": "2s"},
        "sources": {"auth": {"type": "logfile", "path": str(log), "format": "json"}},
        "detectors": {"t": {"type": "sigma", "rules": [str(rules)]}},
        "responders": {"page": {"type": "alertmanager", "urls": [f"http://127.0.0.1:{am_port}"],
                                "min_severity": "critical", "resend_interval": "2s",
                                "resolve_after": "4s", "retry_initial": "0.5s",
                                "retry_max": "2s"}},
    })


def _attack(log: Path, ip: str) -> float:
    now = time.time()
    with open(log, "a") as fh:
        for i in range(3):
            fh.write(json.dumps({"@timestamp": now + i * 0.01,
                                 "event": {"dataset": "sshd.auth", "outcome": "failure"},
                                 "user": {"name": "root"}, "source": {"ip": ip}}) + "\n")
    return now


def test_critical_alert_pages_within_5s_then_resolves(tmp_path: Path) -> None:
    hook = Webhook()
    am = alertmanager(tmp_path, hook).start()
    log = tmp_path / "auth.json"
    log.touch()
    d = Daemon(_config(tmp_path, log, am.port), tmp_path / "state", tmp_path / "ronda.out")
    d.start()
    try:
        t0 = _attack(log, "203.0.113.9")
        wait_for(lambda: bool(hook.alerts("firing", alertname=RULE_ID)), 10,
                 "the page")
        took = hook.received_at[0] - t0
        print(f"critical alert to webhook through Alertmanager: {took:.2f}s")
        assert took < 5, f"the page took {took:.1f}s"
        alert = hook.alerts("firing")[0]
        assert alert["labels"] == {
            "alertname": RULE_ID, "rule_id": RULE_ID,
            "category": "brute-force", "severity": "critical", "sensor": "gw-01",
            "source_ip": "203.0.113.9", "ronda": "true"}
        assert "203.0.113.9" in alert["annotations"]["summary"]
        # Quiet for resolve_after (4 s): the resolved notification follows.
        wait_for(lambda: bool(hook.alerts("resolved", alertname=RULE_ID)), 30,
                 "the resolved notification")
    finally:
        code, _ = d.stop()
        am.stop()
        hook.close()
    assert code == 0


def test_unreachable_alertmanager_delays_but_delivers(tmp_path: Path) -> None:
    hook = Webhook()
    am_port = free_port()
    log = tmp_path / "auth.json"
    log.touch()
    d = Daemon(_config(tmp_path, log, am_port), tmp_path / "state", tmp_path / "ronda.out")
    d.start()
    am = None
    try:
        _attack(log, "198.51.100.7")
        wait_for(lambda: d.metric("ronda_errors_total", component="page") >= 2, 30,
                 "failed attempts while Alertmanager is down")
        assert d.metrics_up()  # still running
        assert d.metric("ronda_alertmanager_pending", component="page") >= 1
        am = alertmanager(tmp_path, hook, port=am_port).start()
        wait_for(lambda: bool(hook.alerts("firing", source_ip="198.51.100.7")), 30,
                 "delivery once Alertmanager is back")
        assert "reachable again" in d.log()
    finally:
        code, took = d.stop()
        if am is not None:
            am.stop()
        hook.close()
    assert code == 0 and took < 10
