"""The Sigma benchmark runs end to end on a small input (its figures come from a full run),
and its 10x rule pack is the pack ten times over, every copy with its own ids and names."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))

import bench_sigma  # noqa: E402


def _rule_docs(root: Path) -> list[dict[str, object]]:
    docs: list[dict[str, object]] = []
    for path in sorted(root.rglob("*.yml")):
        if not path.name.endswith(".samples.yml"):
            docs.extend(d for d in yaml.safe_load_all(path.read_text("utf-8"))
                        if isinstance(d, dict))
    return docs


def test_ten_fold_pack_has_fresh_ids_and_consistent_references(tmp_path: Path) -> None:
    original = _rule_docs(bench_sigma.PACK)
    written = bench_sigma.make_pack(bench_sigma.PACK, tmp_path, 10)
    copies = _rule_docs(tmp_path)
    assert written == len(copies) == 10 * len(original)
    ids = [str(d["id"]) for d in copies if "id" in d]
    assert len(ids) == len(set(ids)) == 10 * sum(1 for d in original if "id" in d)
    for k in range(1, 10):
        part = _rule_docs(tmp_path / f"copy{k:02d}")
        known = {str(d["id"]) for d in part if "id" in d} | \
                {str(d["name"]) for d in part if d.get("name")}
        for d in part:
            corr = d.get("correlation")
            if isinstance(corr, dict):
                assert set(map(str, corr["rules"])) <= known, d["title"]


def test_generated_log_has_the_requested_lines(tmp_path: Path) -> None:
    log = tmp_path / "access.log"
    mix = bench_sigma.generate(log, 3000)
    text = log.read_text("utf-8").splitlines()
    assert len(text) == 3000 == mix.benign + mix.lookalike + mix.attack + mix.probe
    assert mix.attack > 0 and mix.probe > 0
    assert all(bench_sigma.COMBINED.match(line) for line in text)


@pytest.mark.skipif(shutil.which("fail2ban-regex") is None,
                    reason="fail2ban not installed (scripts/test.sh installs it as root)")
def test_sigma_benchmark_runs() -> None:
    cmd = [sys.executable, "bench/bench_sigma.py", "--lines", "3000", "--repeat", "1",
           "--crowdsec-lines", "1000", "--no-fail2ban-set", "--json"]
    r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    res = json.loads(r.stdout.strip().splitlines()[-1])
    assert res["lines"] == res["replayed"] == 3000
    one, ten = res["ronda"]["1x"], res["ronda"]["10x"]
    assert one["lines_per_s"] > 0 and ten["lines_per_s"] > 0
    assert one["alerts"] >= 1 and ten["alerts"] > one["alerts"]
    ip1, ip10 = res["inprocess"]["1x"], res["inprocess"]["10x"]
    assert ip1["lines"] == 3000 and ip1["both_rate_cpu"] > 0
    assert ip10["rules"] == 10 * ip1["rules"]
    assert ip10["alerts"] == 10 * ip1["alerts"]  # every copy finds what the original finds
    assert res["fail2ban"]["nginx-botsearch"]["lines_per_s"] > 0
    assert "10x" in res["cost_ratio"]
    cs = res["crowdsec"]  # runs when scripts/install-crowdsec.sh could unpack it
    if (ROOT / ".cache" / "crowdsec" / "usr" / "bin" / "crowdsec").exists():
        assert "error" not in cs, cs.get("error")
        assert cs["lines"] == 1000 and cs["lines_per_s"] > 0
    else:
        assert "error" in cs
