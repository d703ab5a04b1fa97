"""The live-capture benchmark runs end to end at one low rate (its figures come from a full
run: python bench/bench_live.py)."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from sensor.net.capture_netns import netns_problem

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


@pytest.mark.skipif(shutil.which("tcpreplay") is None,
                    reason="tcpreplay not installed (apt-get install tcpreplay)")
def test_live_benchmark_runs() -> None:
    problem = netns_problem()
    if problem:
        pytest.skip(f"needs network namespaces: {problem}")
    r = subprocess.run([sys.executable, "bench/bench_live.py", "--rates", "2000",
                        "--seconds", "1", "--json"], cwd=ROOT, capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    result = json.loads(r.stdout)
    (row,) = result["ronda"]
    assert row["sent"] == 2000
    assert row["received"] >= 1998  # a stray packet lost on a busy machine is not a failure
    assert row["kernel_drops"] == 0
    assert row["achieved_pps"] > 0
    assert result["ronda_best_pps"] in (0, 2000)
