"""Start and stop a real ``ronda`` process for end-to-end tests."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
RONDA = [sys.executable, "-m", "ronda.daemon.cli"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def ronda(*args: str, timeout: float = 300, **kw: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*RONDA, *args], capture_output=True, text=True, timeout=timeout,
                          cwd=kw.pop("cwd", ROOT), **kw)


def wait_for(cond: Callable[[], bool], timeout: float = 60, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


class Daemon:
    """``ronda run`` on a config written by the test, with its own metrics port."""

    def __init__(self, config: Path, state_dir: Path, log: Path) -> None:
        self.config, self.state_dir, self.log_path = config, state_dir, log
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Daemon:
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [*RONDA, "run", "-c", str(self.config), "--state-dir", str(self.state_dir),
             "--set", f"metrics.listen=127.0.0.1:{self.port}"],
            cwd=ROOT, stdout=self._log, stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"})
        wait_for(self.metrics_up, 60, "the metrics endpoint")
        return self

    def metrics_text(self) -> str:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/metrics", timeout=5) as r:
            return str(r.read().decode())

    def metrics_up(self) -> bool:
        assert self.proc is not None
        if self.proc.poll() is not None:
            raise AssertionError(f"ronda exited with {self.proc.returncode}: {self.log()}")
        try:
            return "ronda_build_info" in self.metrics_text()
        except OSError:
            return False

    def metric(self, name: str, **labels: str) -> float:
        want = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
        total = 0.0
        for line in self.metrics_text().splitlines():
            if line.startswith(name + "{") or line.startswith(name + " "):
                head, _, value = line.rpartition(" ")
                if all(f'{k}="{v}"' in head for k, v in labels.items()) or not want:
                    total += float(value)
        return total

    def send(self, sig: int) -> None:
        assert self.proc is not None
        self.proc.send_signal(sig)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 10) -> tuple[int, float]:
        """Send ``sig``; return (exit code, seconds it took)."""
        assert self.proc is not None
        t0 = time.monotonic()
        self.proc.send_signal(sig)
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(f"ronda did not exit within {timeout}s: {self.log()}") from None
        self._log.close()
        return code, time.monotonic() - t0

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]


def write_config(path: Path, body: dict[str, Any]) -> Path:
    path.write_text(json.dumps(body, indent=1))  # JSON is YAML
    return path
