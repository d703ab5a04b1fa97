"""The packet benchmark runs end to end on a small capture (its figures come from a full
run: python bench/bench_pcap.py)."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(shutil.which("tshark") is None,
                    reason="tshark not installed (apt-get install tshark)")
def test_pcap_benchmark_runs() -> None:
    r = subprocess.run([sys.executable, "bench/bench_pcap.py", "--packets", "3000",
                        "--repeat", "1", "--scapy-slice", "500", "--json"], cwd=ROOT,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    result = json.loads(r.stdout)
    assert result["packets"] >= 3000
    for key in ("ronda_pps", "ronda_engine_pps", "ronda_engine_hook_pps", "tshark_pps",
                "scapy_rdpcap_pps"):
        assert result[key] > 0, key
    assert "flows, 0 undecodable" in result["ronda_summary"]
