"""The packet benchmark runs end to end on a small capture (its figures come from a full
run: python bench/bench_pcap.py), and its capture is realistic: every protocol parser
understands it, and its attack share raises alerts."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))

from gen_pcap import generate  # noqa: E402


@pytest.mark.skipif(shutil.which("tshark") is None,
                    reason="tshark not installed (apt-get install tshark)")
def test_pcap_benchmark_runs() -> None:
    r = subprocess.run([sys.executable, "bench/bench_pcap.py", "--packets", "20000",
                        "--repeat", "1", "--scapy-slice", "500", "--json"], cwd=ROOT,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    result = json.loads(r.stdout)
    assert result["packets"] >= 20000
    for key in ("ronda_pps", "ronda_no_detectors_pps", "ronda_engine_pps",
                "ronda_engine_hook_pps", "ronda_engine_protocols_pps", "tshark_pps",
                "scapy_rdpcap_pps", "ratio_vs_tshark", "ratio_vs_scapy",
                "ronda_peak_rss_mib", "flows", "ronda_netrules_pps", "ronda_flows_only_pps",
                "netrules_ratio_vs_tshark"):
        assert result[key] > 0, key
    assert set(result["startup_s"]) == {"full", "netrules", "tshark"}
    assert all(v > 0 for v in result["startup_s"].values())
    assert set(result["steady_pps"]) == {"ronda", "netrules", "tshark"}
    assert result["undecodable"] == 0
    assert result["malformed"] == 0, result["ronda_summary"]
    assert "0 undecodable, 0 malformed protocol messages" in result["ronda_summary"]
    events = result["events_by_dataset"]
    for dataset in ("network.flow", "dns", "http", "tls", "ssh"):
        assert events.get(dataset, 0) > 0, dataset
    assert result["alerts"] > 0
    rules = result["alerts_by_rule"]
    assert sum(rules.values()) == result["alerts"]
    assert any(name.startswith("sigma:") for name in rules), rules  # web rules on HTTP
    assert any(name.startswith("ronda-sample:") for name in rules), rules  # netrules
    for field in ("dns.qry.name", "http.request.uri", "tls.handshake.extensions_server_name",
                  "ssh.protocol"):
        assert field in result["tshark_fields"]


def test_capture_is_deterministic(tmp_path: Path) -> None:
    a, b = tmp_path / "a.pcap", tmp_path / "b.pcap"
    assert generate(a, 2000, 5) == generate(b, 2000, 5) >= 2000
    assert a.read_bytes() == b.read_bytes()
