"""The benchmark runs end to end on a small input (its figures come from a full run)."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(shutil.which("fail2ban-regex") is None,
                    reason="fail2ban not installed (scripts/test.sh installs it as root)")
def test_parse_threshold_benchmark_runs() -> None:
    r = subprocess.run([sys.executable, "bench/bench_parse_threshold.py", "--lines", "6000",
                        "--repeat", "1", "--json"], cwd=ROOT, capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, r.stderr
    result = json.loads(r.stdout)
    assert result["lines"] == 6000
    assert result["ronda_lines_per_s"] > 0 and result["fail2ban_lines_per_s"] > 0
    assert result["ronda_alerts"] >= 1
