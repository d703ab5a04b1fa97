"""The running daemon: syslog from a web server raises alerts into the store, and the
metrics endpoint shows per-component counters, queue depths, lag and build info."""

import json
import socket
import time
from pathlib import Path

from tests.integration.daemon import ROOT, Daemon, free_port, ronda, wait_for, write_config


def test_syslog_forwarding_to_alerts_and_metrics(tmp_path: Path) -> None:
    sport = free_port()
    log = tmp_path / "auth.log"
    log.write_text("")
    cfg = write_config(tmp_path / "ronda.yaml", {
        "sensor": {"name": "sensor-a"},
        "sources": {
            "fwd": {"type": "syslog", "listen": f"127.0.0.1:{sport}", "protocols": ["udp"]},
            "auth": {"type": "logfile", "path": str(log), "format": "sshd"},
        },
        "detectors": {"t": {"type": "sigma", "rules": [str(ROOT / "rules" / "sigma")]}},
        "responders": {"store": {"type": "sqlite"}},
    })
    d = Daemon(cfg, tmp_path / "state", tmp_path / "ronda.out").start()
    try:
        now = time.time()
        stamp = time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now))
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            for i in range(40):
                line = (f'<190>{time.strftime("%b %d %H:%M:%S", time.localtime(now))} web-dinkes '
                        f'nginx: 192.0.2.44 - - [{stamp}] "GET /.env{i} HTTP/1.1" 404 153 "-" '
                        f'"curl/8"')
                s.sendto(line.encode(), ("127.0.0.1", sport))
            s.sendto(b"\x00\xffgarbage that is no syslog", ("127.0.0.1", sport))
        wait_for(lambda: d.metric("ronda_alerts_total", category="scanner") >= 1, 30,
                 "a 404-storm alert from forwarded syslog")
        wait_for(lambda: d.metric("ronda_queue_depth", component="store") == 0, 10, "drain")
        text = d.metrics_text()
        for name in ("ronda_received_total", "ronda_emitted_total", "ronda_dropped_total",
                     "ronda_errors_total", "ronda_queue_depth", "ronda_queue_capacity",
                     "ronda_source_lag_bytes", "ronda_last_event_timestamp_seconds",
                     "ronda_build_info", "ronda_rules_loaded", "ronda_alerts_total"):
            assert name in text, name
        assert d.metric("ronda_received_total", component="fwd") == 41
        assert d.metric("ronda_emitted_total", component="fwd") == 40
        assert d.metric("ronda_dropped_total", component="fwd", reason="parse_error") == 1
        assert d.metric("ronda_last_event_timestamp_seconds", source="fwd") > now - 60
        assert 'ronda_source_lag_bytes{path="' in text
        assert d.metric("ronda_rules_loaded", detector="t") >= 4
        with open(log, "a") as fh:  # counted per source, skipped
            fh.write("not a syslog line\n")
        wait_for(lambda: d.metric("ronda_dropped_total", component="auth",
                                  reason="parse_error") == 1, 20, "the auth parse error")
        time.sleep(1.5)  # the store flushes when idle
    finally:
        code, took = d.stop()
    assert code == 0 and took < 10
    r = ronda("alerts", "list", "-c", str(cfg), "--state-dir", str(tmp_path / "state"), "--json")
    docs = [json.loads(x) for x in r.stdout.splitlines()]
    # HTTP 404 storm, rules/sigma/correlation/http_404_storm.yml
    storm = [x for x in docs if x["rule"]["id"] == "0338b69a-0d5b-44e5-96d8-4759806c8b29"]
    assert storm and storm[0]["source"]["ip"] == "192.0.2.44"
    assert storm[0]["observer"]["name"] == "sensor-a"
    assert storm[0]["host"]["hostname"] == "web-dinkes"
