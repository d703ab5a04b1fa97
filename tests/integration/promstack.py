"""Real Prometheus and Alertmanager (from Debian's packages, extracted by
scripts/install-prometheus.sh) on loopback ports, and a webhook receiver, for tests."""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from tests.integration.daemon import ROOT, free_port, wait_for

BIN = ROOT / ".cache" / "prometheus" / "usr" / "bin"


def tool(name: str) -> str:
    local = BIN / name
    if local.exists():
        return str(local)
    found = shutil.which(name)
    if found is None:
        raise AssertionError(f"{name} not found: run scripts/install-prometheus.sh "
                             "(scripts/test.sh does)")
    return found


class Webhook:
    """Records Alertmanager webhook notifications (one JSON body per POST)."""

    def __init__(self) -> None:
        self.notifications: list[dict[str, Any]] = []
        self.received_at: list[float] = []
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                hook.notifications.append(json.loads(body))
                hook.received_at.append(time.time())
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = int(self.server.server_address[1])
        self.url = f"http://127.0.0.1:{self.port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def alerts(self, status: str | None = None, **labels: str) -> list[dict[str, Any]]:
        out = []
        for n in list(self.notifications):
            for a in n["alerts"]:
                if status is not None and a["status"] != status:
                    continue
                if all(a["labels"].get(k) == v for k, v in labels.items()):
                    out.append(a)
        return out

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Server:
    def __init__(self, cmd: list[str], port: int, log: Path, ready_path: str) -> None:
        self.cmd, self.port, self.log_path, self.ready_path = cmd, port, log, ready_path
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Server:
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(self.cmd, stdout=self._log, stderr=subprocess.STDOUT)
        wait_for(self.ready, 60, f"{Path(self.cmd[0]).name} to be ready")
        return self

    def ready(self) -> bool:
        assert self.proc is not None
        if self.proc.poll() is not None:
            raise AssertionError(f"{self.cmd[0]} exited: {self.log_path.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{self.ready_path}",
                                        timeout=2) as r:
                return int(r.status) == 200
        except OSError:
            return False

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()


def alertmanager(tmp: Path, webhook: Webhook, port: int | None = None) -> Server:
    port = port or free_port()
    cfg = tmp / "alertmanager.yml"
    cfg.write_text(json.dumps({
        "global": {"resolve_timeout": "5m"},
        "route": {"receiver": "hook", "group_by": ["alertname", "source_ip", "source"],
                  "group_wait": "0s", "group_interval": "1s", "repeat_interval": "1h"},
        "receivers": [{"name": "hook", "webhook_configs": [
            {"url": webhook.url, "send_resolved": True}]}],
    }))
    data = tmp / "am-data"
    data.mkdir(exist_ok=True)
    return Server([tool("prometheus-alertmanager"), f"--config.file={cfg}",
                   f"--storage.path={data}", f"--web.listen-address=127.0.0.1:{port}",
                   "--cluster.listen-address=", "--log.level=warn"],
                  port, tmp / "alertmanager.out", "/-/ready")


def prometheus(tmp: Path, targets: list[str], am_port: int) -> Server:
    port = free_port()
    cfg = tmp / "prometheus.yml"
    cfg.write_text(json.dumps({
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(ROOT / "dashboards" / "prometheus" / "ronda-rules.yml")],
        "alerting": {"alertmanagers": [{"static_configs": [
            {"targets": [f"127.0.0.1:{am_port}"]}]}]},
        "scrape_configs": [{"job_name": "ronda", "static_configs": [{"targets": targets}]}],
    }))
    data = tmp / "prom-data"
    data.mkdir(exist_ok=True)
    return Server([tool("prometheus"), f"--config.file={cfg}", f"--storage.tsdb.path={data}",
                   f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"],
                  port, tmp / "prometheus.out", "/-/ready")
