"""Ronda's own Sigma pack (rules/sigma): metadata, samples, false alarms, detection.

1. Every rule file loads in pySigma; every rule in rules/sigma/web and rules/sigma/linux has
   a UUID id, a level, an ATT&CK technique tag, exactly one ``ronda.category.<cat>`` tag from
   the schema's vocabulary and a samples file with at least two match and two nomatch
   entries; ids are unique across the whole pack (correlation rules included), which holds
   at least 60 rules.
2. The samples of web/ and linux/ pass through the real engine (what ``ronda rules test``
   runs).
3. False alarms: the benign government-site corpus (bench/corpus/benign_gov.log.gz, 20,000
   requests) replayed through the nginx parser and the Sigma detector over the whole pack
   raises alerts on at most 0.1% of its lines.
4. Detection: bench/detection_rate.py runs on a slice of the attack corpus, and on the
   whole corpus no category falls below a floor (a guard against rules silently breaking).
5. The committed corpora are exactly what their generators produce.
"""

from __future__ import annotations

import gzip
import json
import re
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import yaml
from sigma.collection import SigmaCollection
from sigma.correlations import SigmaCorrelationRule
from sigma.rule import SigmaRule

from detectors.sigma.samples import check_paths
from ronda.clock import ManualClock
from ronda.schema import CATEGORIES
from sensor.parsers import make_parser

ROOT = Path(__file__).resolve().parents[3]
PACK = ROOT / "rules" / "sigma"
OWN = [PACK / "web", PACK / "linux"]
CORPUS = ROOT / "bench" / "corpus"
TECHNIQUE = re.compile(r"^attack\.t\d{4}(?:\.\d{3})?$")
TACTIC = re.compile(r"^attack\.[a-z]+(?:-[a-z]+)*$")
LEVELS = {"informational", "low", "medium", "high", "critical"}
MAX_FALSE_ALARM_PERCENT = 0.1
DETECTION_FLOOR_PERCENT = 50.0


def _rule_files(roots: list[Path]) -> list[Path]:
    return sorted(p for root in roots for p in root.rglob("*.yml")
                  if not p.name.endswith((".samples.yml", ".samples.yaml")))


OWN_FILES = _rule_files(OWN)
ALL_FILES = _rule_files([PACK])


def _load(path: Path) -> SigmaCollection:
    return SigmaCollection.load_ruleset([path])


def test_pack_has_own_rules() -> None:
    assert len(OWN_FILES) >= 60, f"only {len(OWN_FILES)} rule files under web/ and linux/"


@pytest.mark.parametrize("path", ALL_FILES, ids=lambda p: str(p.relative_to(PACK)))
def test_rule_file_loads_in_pysigma(path: Path) -> None:
    collection = _load(path)
    assert not collection.errors, f"{path}: {collection.errors}"
    assert len(collection.rules) >= 1


@pytest.mark.parametrize("path", OWN_FILES, ids=lambda p: str(p.relative_to(PACK)))
def test_own_rule_metadata_and_samples(path: Path) -> None:
    rules = _load(path).rules
    assert len(rules) == 1, "one rule per file"
    rule = rules[0]
    assert isinstance(rule, SigmaRule)
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert str(uuid.UUID(str(data["id"]))) == str(data["id"]), "id must be a UUID"
    assert data.get("author") == "Ronda"
    assert data.get("status") in {"experimental", "test", "stable"}
    assert data.get("level") in LEVELS
    assert data.get("title") and data.get("description") and data.get("falsepositives")
    tags = [str(t) for t in data.get("tags", [])]
    assert any(TECHNIQUE.match(t) for t in tags), f"no attack.tNNNN tag in {tags}"
    assert any(TACTIC.match(t) and not TECHNIQUE.match(t) for t in tags), "no ATT&CK tactic"
    cats = [t.split(".", 2)[2] for t in tags if t.startswith("ronda.category.")]
    assert len(cats) == 1 and cats[0] in CATEGORIES, f"ronda.category tag: {cats}"
    logsource = data["logsource"]
    if path.is_relative_to(PACK / "web"):
        assert logsource == {"category": "webserver"}
    else:
        assert logsource.get("product") == "linux" and "service" in logsource
    samples = path.with_name(path.stem + ".samples.yml")
    assert samples.is_file(), f"missing {samples.name}"
    spec = yaml.safe_load(samples.read_text(encoding="utf-8"))
    assert spec["format"] in {"nginx", "apache", "sshd", "syslog", "json"}
    assert len(spec["match"]) >= 2 and len(spec["nomatch"]) >= 2
    parse = make_parser(spec["format"], ManualClock(0.0))
    for line in [*spec["match"], *spec["nomatch"]]:
        assert parse(line) is not None, f"sample does not parse as {spec['format']}: {line}"


def test_ids_unique_and_pack_size() -> None:
    ids: dict[str, Path] = {}
    count = 0
    for path in ALL_FILES:
        for rule in _load(path):
            assert isinstance(rule, (SigmaRule, SigmaCorrelationRule))
            count += 1
            rid = str(rule.id)
            assert rid not in ids, f"id {rid} in both {ids[rid]} and {path}"
            ids[rid] = path
    assert count >= 60, f"only {count} rules in rules/sigma"


def test_categories_cover_the_issue() -> None:
    cats: set[str] = set()
    for path in OWN_FILES:
        tags = yaml.safe_load(path.read_text(encoding="utf-8"))["tags"]
        cats.update(t.split(".", 2)[2] for t in tags if t.startswith("ronda.category."))
    assert {"sqli", "xss", "path-traversal", "rce", "php-injection", "webshell", "scanner",
            "sensitive-file", "brute-force", "gambling-spam", "policy"} <= cats
    cves = [p for p in OWN_FILES if "/cve/" in p.as_posix()]
    assert len(cves) >= 12


def test_own_samples_pass_in_the_engine() -> None:
    report = check_paths(OWN, lambda fmt: make_parser(fmt, ManualClock(0.0)))
    assert report.ok, "\n".join(report.failures[:20])
    assert report.rules >= 60


def _run(*args: str) -> dict[str, object]:
    r = subprocess.run([sys.executable, *args, "--json"], cwd=ROOT, capture_output=True,
                       text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    result: dict[str, object] = json.loads(r.stdout)
    return result


def test_benign_corpus_false_alarm_rate() -> None:
    result = _run("bench/false_alarm_rate.py")
    assert result["lines"] == 20_000
    assert result["unparsed"] == 0
    assert float(str(result["rate_percent"])) <= MAX_FALSE_ALARM_PERCENT, (
        f"{result['alerting_lines']} alerting lines: {result['per_rule']}\n"
        f"{json.dumps(result['examples'], indent=1)}")


def test_detection_rate_script_runs_on_a_slice() -> None:
    result = _run("bench/detection_rate.py", "--limit", "400")
    total = result["total"]
    assert isinstance(total, dict)
    assert total["lines"] == 400 and total["detected"] > 0


def test_detection_rate_floor_per_category() -> None:
    result = _run("bench/detection_rate.py")
    categories = result["categories"]
    assert isinstance(categories, dict)
    low = {cat: round(100 * v["detected"] / v["lines"], 1) for cat, v in categories.items()
           if 100 * v["detected"] / v["lines"] < DETECTION_FLOOR_PERCENT}
    assert not low, f"categories below {DETECTION_FLOOR_PERCENT}%: {low}"


def test_corpora_are_reproducible(tmp_path: Path) -> None:
    subprocess.run([sys.executable, "bench/corpus/gen_benign.py", str(tmp_path / "b.log.gz")],
                   cwd=ROOT, check=True, capture_output=True, timeout=300)
    with gzip.open(tmp_path / "b.log.gz", "rb") as new, \
            gzip.open(CORPUS / "benign_gov.log.gz", "rb") as old:
        assert new.read() == old.read(), "benign_gov.log.gz differs from gen_benign.py output"
    subprocess.run([sys.executable, "bench/corpus/gen_attacks.py", "--out",
                    str(tmp_path / "a.log"), "--labels", str(tmp_path / "a.tsv")],
                   cwd=ROOT, check=True, capture_output=True, timeout=300)
    assert (tmp_path / "a.log").read_bytes() == (CORPUS / "attacks.log").read_bytes()
    assert (tmp_path / "a.tsv").read_bytes() == (CORPUS / "attacks.labels.tsv").read_bytes()
