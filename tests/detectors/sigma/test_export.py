"""``ronda rules export --format elasticsearch``: the pack as Elastic Security rules."""

from __future__ import annotations

import json
from pathlib import Path

from sigma.collection import SigmaCollection
from sigma.data import mitre_attack

from detectors.sigma.attack import TACTICS, TECHNIQUES, attack_data
from detectors.sigma.export import export_elasticsearch

ROOT = Path(__file__).resolve().parents[3]
PACK = ROOT / "rules" / "sigma"


def _pack() -> SigmaCollection:
    paths = [p for p in sorted(PACK.rglob("*.yml")) if not p.name.endswith(".samples.yml")]
    col = SigmaCollection.load_ruleset(paths)
    col.resolve_rule_references()
    return col


def test_pack_exports_every_alerting_rule_with_ecs_fields_and_attack() -> None:
    col = _pack()
    with attack_data():
        result = export_elasticsearch(col)
    alerting = [r for r in col.rules if r._output]
    # Only the chained temporal correlation has no ES|QL form; it is reported, not lost.
    assert len(result.rules) + len(result.skipped) == len(alerting)
    assert len(result.skipped) <= 1, result.skipped
    assert all(" in rule Sigma" not in s for s in result.skipped)
    assert result.building_blocks >= 1
    by_id = {r["rule_id"]: r for r in result.rules}
    assert len(by_id) == len(result.rules)
    for rule in result.rules:
        assert rule["type"] in ("query", "esql")
        assert rule["query"]
        assert "Ronda" in rule["tags"]
        # Ronda's pipeline mapped the Sigma taxonomy to ECS: no cs-/c-/sc- names remain.
        for taxonomy in ("cs-uri", "c-ip", "sc-status", "cs-method", "cs-user-agent"):
            assert taxonomy not in rule["query"]
    lucene = [r for r in result.rules if r["type"] == "query"]
    assert lucene and all(r["index"] == ["logs-ronda.*-*", "-logs-ronda.alert-*"] for r in lucene)
    esql = [r for r in result.rules if r["type"] == "esql"]
    assert esql and all(r["query"].startswith("from logs-ronda.*-* ") for r in esql)
    # Offline ATT&CK names: every technique of the pack is in the built-in subset.
    assert sum(1 for r in result.rules if r.get("threat")) >= len(result.rules) // 2
    for line in result.ndjson().splitlines():
        json.loads(line)


def test_attack_subset_restores_pysigma_settings() -> None:
    before = (mitre_attack._custom_url, mitre_attack._custom_cache_dir)
    with attack_data():
        assert mitre_attack.mitre_attack_tactics["TA0001"] == "initial-access"
        assert mitre_attack.mitre_attack_techniques["T1190"] == (
            "Exploit Public-Facing Application")
    assert (mitre_attack._custom_url, mitre_attack._custom_cache_dir) == before
    assert len(TACTICS) == 14 and "T1505.003" in TECHNIQUES


def test_pack_techniques_are_in_the_subset() -> None:
    used = set()
    for rule in _pack().rules:
        for tag in rule.tags:
            if tag.namespace == "attack" and tag.name[:1] in "tT" and tag.name[1:2].isdigit():
                used.add(tag.name.upper())
    assert used and used <= set(TECHNIQUES), sorted(used - set(TECHNIQUES))


def test_cli_export_writes_ndjson_and_reports_the_unexportable(tmp_path: Path) -> None:
    import subprocess
    import sys

    out = tmp_path / "rules.ndjson"
    r = subprocess.run([sys.executable, "-m", "ronda.daemon.cli", "rules", "export",
                        "--format", "elasticsearch", "-o", str(out), str(PACK)],
                       capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert r.returncode == 0, r.stderr
    rules = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rules) >= 60
    assert "exported" in r.stderr.splitlines()[-1]
    assert "SKIP" in r.stderr and "correlates another correlation rule" in r.stderr
    bad = subprocess.run([sys.executable, "-m", "ronda.daemon.cli", "rules", "export",
                          str(tmp_path / "nope")], capture_output=True, text=True, cwd=ROOT,
                         timeout=300)
    assert bad.returncode == 2
    assert bad.stderr.strip().endswith("nope: no such rule file or folder")
    assert "Traceback" not in bad.stderr
