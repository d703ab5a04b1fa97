"""``ronda run`` with a live ``capture`` source, started inside a network namespace made by
the test (``ip netns exec``), fed by traffic from the other end of a veth pair."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sensor.net.capture_netns import VethPair, netns_problem
from tests.integration.daemon import RONDA, ROOT, Daemon, wait_for, write_config
from tests.sensor.net.capture_helpers import MIXED, in_ns, tcp_server, traffic_from_b

pytestmark = pytest.mark.slow


@pytest.fixture
def net() -> Iterator[VethPair]:
    problem = netns_problem()
    if problem:
        pytest.skip(f"live capture needs network namespaces: {problem}")
    with VethPair("i") as pair:
        yield pair


class NetnsDaemon(Daemon):
    """The daemon inside namespace ``ns``; its metrics (on the namespace's loopback) are
    fetched from a thread moved into the same namespace."""

    def __init__(self, ns: str, *args: Any) -> None:
        super().__init__(*args)
        self.ns = ns

    def start(self) -> NetnsDaemon:
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", self.ns, *RONDA, "run", "-c", str(self.config),
             "--state-dir", str(self.state_dir),
             "--set", f"metrics.listen=127.0.0.1:{self.port}"],
            cwd=ROOT, stdout=self._log, stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"})
        wait_for(self.metrics_up, 60, "the metrics endpoint")
        return self

    def metrics_text(self) -> str:
        def get() -> str:
            url = f"http://127.0.0.1:{self.port}/metrics"
            with urllib.request.urlopen(url, timeout=5) as r:
                return str(r.read().decode())
        return in_ns(self.ns, get)


def _config(tmp: Path, sink: Path, interface: str, **capture: Any) -> Path:
    return write_config(tmp / "ronda.yaml", {
        "sensor": {"name": "netns-test"},
        "sources": {"lan": {"type": "capture", "interface": interface, **capture}},
        "responders": {"sink": {"type": "jsonl", "path": str(sink), "events": True,
                                "overflow": "block"}},
    })


def _flows(sink: Path) -> list[dict[str, Any]]:
    if not sink.exists():
        return []
    docs = [json.loads(ln) for ln in sink.read_text().splitlines() if ln.endswith("}")]
    return [d for d in docs if d.get("event", {}).get("dataset") == "network.flow"]


def test_ronda_run_captures_live_traffic_in_a_namespace(net: VethPair, tmp_path: Path) -> None:
    sink = tmp_path / "sink.jsonl"
    cfg = _config(tmp_path, sink, net.if_a, bpf="not arp", buffer_size="8MiB")
    server = tcp_server(net, 8080)
    daemon = NetnsDaemon(net.a, cfg, tmp_path / "state", tmp_path / "ronda.log").start()
    try:
        traffic_from_b(net, MIXED)
        wait_for(lambda: any(f["destination"].get("port") == 8080 for f in _flows(sink)),
                 15, "the TCP flow event")
        wait_for(lambda: daemon.metric("ronda_capture_kernel_packets_total",
                                       component="lan") >= 8, 10, "kernel packet stats")
        text = daemon.metrics_text()
        assert 'ronda_capture_kernel_drops_total{component="lan"} 0.0' in text
        assert daemon.metric("ronda_received_total", component="lan") >= 8
    finally:
        code, took = daemon.stop(signal.SIGTERM)
        server.close()
    assert code == 0, daemon.log()
    assert took < 5
    flows = _flows(sink)
    tcp = next(f for f in flows if f["destination"].get("port") == 8080)
    assert (tcp["source"]["ip"], tcp["destination"]["ip"], tcp["network"]["transport"]) == (
        net.ip_b, net.ip_a, "tcp")
    assert tcp["event"]["reason"] == "end"
    udp = next(f for f in flows if f["destination"].get("port") == 53)
    assert (udp["source"]["ip"], udp["source"]["port"], udp["event"]["reason"]) == (
        net.ip_b, 40053, "shutdown")  # flushed when the daemon stopped
    assert any(f["network"]["transport"] == "icmp" for f in flows)


def test_bad_interface_is_exit_2_and_one_line(net: VethPair, tmp_path: Path) -> None:
    cfg = _config(tmp_path, tmp_path / "sink.jsonl", "nosuch0")
    r = net.run(net.a, [*RONDA, "run", "-c", str(cfg), "--state-dir", str(tmp_path / "s")],
                check=False, cwd=ROOT)
    assert r.returncode == 2, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert "sources.lan: interface nosuch0: no such interface" in lines[0]
