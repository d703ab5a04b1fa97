"""The README's run command starts the daemon on the shipped default config."""

import os
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from tests.integration.daemon import ROOT, free_port, wait_for

pytestmark = pytest.mark.slow


def test_run_script_starts_daemon_on_default_config(tmp_path: Path) -> None:
    mport, sport = free_port(), free_port()
    out = open(tmp_path / "out.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen(
        ["scripts/run.sh", "--state-dir", str(tmp_path / "state"),
         "--set", f"metrics.listen=127.0.0.1:{mport}",
         "--set", f"sources.forwarded.listen=127.0.0.1:{sport}"],
        cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"})

    def up() -> bool:
        assert proc.poll() is None, (tmp_path / "out.log").read_text()
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{mport}/metrics", timeout=2) as r:
                return b"ronda_build_info" in r.read()
        except OSError:
            return False

    try:
        wait_for(up, 180, "the daemon started by scripts/run.sh")
        text = (tmp_path / "out.log").read_text()
        assert "started: sensor diskominfo-sensor-01, config " in text
        assert (tmp_path / "state").is_dir()
    finally:
        t0 = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(15)
        out.close()
    assert code == 0 and time.monotonic() - t0 < 10
