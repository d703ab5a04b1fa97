"""Prometheus side: the shipped rules pass promtool, Ronda's live endpoint passes
`promtool check metrics`, and the rules page through a real Alertmanager when a Ronda
source goes silent and when Ronda is stopped."""

import subprocess
from pathlib import Path

import pytest

from tests.integration.daemon import ROOT, Daemon, wait_for, write_config
from tests.integration.promstack import Webhook, alertmanager, prometheus, tool

RULES = ROOT / "dashboards" / "prometheus"


def test_promtool_checks_and_unit_tests_the_rules() -> None:
    r = subprocess.run([tool("promtool"), "check", "rules", str(RULES / "ronda-rules.yml")],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    r = subprocess.run([tool("promtool"), "test", "rules", "ronda-rules.test.yml"],
                       cwd=RULES, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "SUCCESS" in r.stdout


def test_live_metrics_pass_promtool_check_metrics(tmp_path: Path) -> None:
    log = tmp_path / "a.log"
    log.write_text('{"x": 1}\nnot json\n')
    cfg = write_config(tmp_path / "r.yaml", {
        "sources": {"app": {"type": "logfile", "path": str(log), "format": "json",
                            "expected_interval": "5m"}},
        "detectors": {"t": {"type": "sigma", "rules": [str(ROOT / "rules" / "sigma")]}},
        "responders": {"store": {"type": "sqlite"}}})
    d = Daemon(cfg, tmp_path / "state", tmp_path / "ronda.out").start()
    try:
        wait_for(lambda: d.metric("ronda_received_total", component="app") == 2, 20, "lines")
        text = d.metrics_text()
    finally:
        d.stop()
    r = subprocess.run([tool("promtool"), "check", "metrics"], input=text,
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.strip() == "" and r.stderr.strip() == "", r.stdout + r.stderr
    assert 'ronda_source_expected_interval_seconds{source="app"} 300.0' in text
    assert "ronda_inotify_watches " in text


@pytest.mark.slow
def test_rules_page_when_a_source_is_silent_and_when_ronda_stops(tmp_path: Path) -> None:
    hook = Webhook()
    am = alertmanager(tmp_path, hook).start()
    daemons: list[Daemon] = []
    prom = None
    try:
        for name in ("quiet", "doomed"):
            log = tmp_path / f"{name}.log"
            log.touch()
            cfg = write_config(tmp_path / f"{name}.yaml", {
                "sensor": {"name": name},
                "sources": {"web": {"type": "logfile", "path": str(log), "format": "nginx",
                                    "expected_interval": "2s"}}})
            daemons.append(Daemon(cfg, tmp_path / f"state-{name}",
                                  tmp_path / f"{name}.out").start())
        quiet, doomed = daemons
        prom = prometheus(tmp_path, [f"127.0.0.1:{quiet.port}", f"127.0.0.1:{doomed.port}"],
                          am.port).start()
        # Keep "doomed"'s source busy so only "quiet" is silent, then stop "doomed".
        wait_for(lambda: prom is not None and _scraped(prom.port, 2), 60, "two targets up")
        doomed.stop()
        wait_for(lambda: bool(hook.alerts("firing", alertname="RondaSourceSilent",
                                          instance=f"127.0.0.1:{quiet.port}", source="web")),
                 150, "RondaSourceSilent through Alertmanager")
        wait_for(lambda: bool(hook.alerts("firing", alertname="RondaDown",
                                          instance=f"127.0.0.1:{doomed.port}")),
                 150, "RondaDown through Alertmanager")
        assert not hook.alerts("firing", alertname="RondaDown",
                               instance=f"127.0.0.1:{quiet.port}")
    finally:
        for d in daemons:
            if d.proc is not None and d.proc.poll() is None:
                d.stop()
        if prom is not None:
            prom.stop()
        am.stop()
        hook.close()


def _scraped(port: int, n: int) -> bool:
    import json
    import urllib.request
    url = f"http://127.0.0.1:{port}/api/v1/query?query=sum(up%7Bjob%3D%22ronda%22%7D)"
    with urllib.request.urlopen(url, timeout=5) as r:
        res = json.loads(r.read())["data"]["result"]
    return bool(res) and float(res[0]["value"][1]) == n


def test_example_configs_pass_amtool_and_promtool() -> None:
    examples = ROOT / "config" / "examples"
    r = subprocess.run([tool("amtool"), "check-config", str(examples / "alertmanager.yml")],
                       capture_output=True, text=True)
    assert r.returncode == 0 and "SUCCESS" in r.stdout, r.stdout + r.stderr
    r = subprocess.run([tool("promtool"), "check", "config", str(examples / "prometheus.yml")],
                       capture_output=True, text=True)
    assert r.returncode == 0 and "SUCCESS" in r.stdout, r.stdout + r.stderr
