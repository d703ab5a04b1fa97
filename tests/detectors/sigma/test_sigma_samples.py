"""The sample runner and ``ronda rules test|validate|list``."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from detectors.sigma.samples import check_paths
from ronda.daemon.cli import main
from tests.detectors.sigma.sigma_support import parsers, rule_text, write

RID = "dddddddd-0000-4000-8000-000000000001"
RULE = rule_text("sel: {c-uri|contains: union%20select}\ncondition: sel", rid=RID,
                 title="UNION probe")
LINE = '203.0.113.9 - - [20/Nov/2026:09:00:00 +0700] "GET {} HTTP/1.1" 200 5 "-" "curl/8"'
SAMPLES = f"""format: nginx
match:
  - '{LINE.format("/?id=1%20UNION%20SELECT%201")}'
nomatch:
  - '{LINE.format("/berita")}'
"""


def run(tmp: Path) -> list[str]:
    report = check_paths([tmp], parsers)
    return [*report.failures, report.summary()]


def test_passing_samples(tmp_path: Path) -> None:
    write(tmp_path, "web/union.yml", RULE)
    write(tmp_path, "web/union.samples.yml", SAMPLES)
    assert run(tmp_path) == ["1 rules, 2 samples, 0 failures"]


def test_failing_samples_name_file_line_rule_and_sample(tmp_path: Path) -> None:
    write(tmp_path, "union.yml", RULE)
    write(tmp_path, "union.samples.yml", f"""format: nginx
match:
  - '{LINE.format("/?id=1%20UNION%20SELECT%201")}'
  - '{LINE.format("/nothing")}'
nomatch:
  - '{LINE.format("/berita")}'
  - '{LINE.format("/x?q=union%20select")}'
""")
    lines = run(tmp_path)
    samples = str(tmp_path / "union.samples.yml")
    assert lines == [
        f"FAIL {samples}:4: {RID} UNION probe: match sample 2 did not fire",
        f"FAIL {samples}:7: {RID} UNION probe: nomatch sample 2 fired",
        "1 rules, 4 samples, 2 failures",
    ]


def test_rule_without_samples_fails(tmp_path: Path) -> None:
    write(tmp_path, "union.yml", RULE)
    (line, summary) = run(tmp_path)
    assert line == (f"FAIL {tmp_path / 'union.yml'}:1 {RID} UNION probe: no samples "
                    f"(expected {tmp_path / 'union.samples.yml'})")
    assert summary == "1 rules, 0 samples, 1 failures"


def test_bad_samples(tmp_path: Path) -> None:
    write(tmp_path, "union.yml", RULE)
    write(tmp_path, "union.samples.yml", "format: nginx\nmatch:\n  - 'not an access line'\n"
                                         "  - ['also', 'not']\n")
    lines = run(tmp_path)
    assert lines[0].endswith("match sample 1: does not parse as nginx")
    assert lines[1].endswith("match sample 2: entry 1: does not parse as nginx")
    write(tmp_path, "union.samples.yml", "format: nosuch\nmatch: ['x']\n")
    assert "unknown format 'nosuch'" in run(tmp_path)[0]
    write(tmp_path, "union.samples.yml", "format: nginx\nmatch: [\n")
    (line, summary) = run(tmp_path)
    assert "YAML syntax error" in line and summary.endswith("1 failures")
    write(tmp_path, "union.samples.yml", "format: nginx\nmatches: []\n")
    assert "unknown key 'matches'" in run(tmp_path)[0]
    write(tmp_path, "union.samples.yml", "match: []\n")
    assert "'format' is required" in run(tmp_path)[0]


def test_events_format_and_rule_keys(tmp_path: Path) -> None:
    other = rule_text("sel: {user.name: root}\ncondition: sel", logsource="product: linux\n"
                      "service: sshd", rid="eeeeeeee-0000-4000-8000-000000000001",
                      title="Root", extra="name: root_login")
    write(tmp_path, "two.yml", RULE + "---\n" + other)
    write(tmp_path, "two.samples.yml", f"""
- rule: {RID}
  format: events
  match:
    - {{dataset: nginx.access, fields: {{url.original: '/?a=union%20select'}}}}
  nomatch:
    - [{{dataset: nginx.access, fields: {{url.original: /}}, timestamp: 2026-11-20T00:00:00Z}},
       {{dataset: sshd.auth, fields: {{url.original: union%20select}}, message: x}}]
- rule: root_login
  format: sshd
  match: ['Nov 20 09:00:00 web1 sshd[1]: Failed password for root from 1.2.3.4 port 1 ssh2']
- rule: nosuch
  format: events
  match: []
""")
    lines = run(tmp_path)
    assert lines[0].endswith("samples for unknown rule 'nosuch'")
    assert lines[1:] == ["2 rules, 3 samples, 1 failures"]
    write(tmp_path, "two.samples.yml", f"- rule: {RID}\n  format: events\n  match:\n"
                                       "    - {fields: {}}\n")
    assert "'dataset' is required" in run(tmp_path)[0]


def test_correlation_file_samples_target_the_correlation(tmp_path: Path) -> None:
    base = rule_text("sel: {event.outcome: failure}\ncondition: sel", logsource="product: "
                     "linux\nservice: sshd", extra="name: failed")
    corr = ("title: Brute\nid: ffffffff-0000-4000-8000-000000000001\ncorrelation:\n"
            "  type: event_count\n  rules: [failed]\n  group-by: [source.ip]\n"
            "  timespan: 1m\n  condition: {gte: 3}\n")
    write(tmp_path, "brute.yml", base + "---\n" + corr)
    fail = "Nov 20 09:00:0{} web1 sshd[1]: Failed password for root from 1.2.3.4 port 1 ssh2"
    write(tmp_path, "brute.samples.yml", "format: sshd\nmatch:\n  - ["
          + ", ".join(f"'{fail.format(i)}'" for i in range(3)) + "]\nnomatch:\n  - ['"
          + fail.format(0) + "']\n")
    assert run(tmp_path) == ["2 rules, 2 samples, 0 failures"]


def test_skipped_and_inactive_rules(tmp_path: Path) -> None:
    write(tmp_path, "bad.yml", rule_text("sel: {a|nosuch: x}\ncondition: sel", title="Bad"))
    write(tmp_path, "win.yml", rule_text("sel: {Image: x}\ncondition: sel",
                                         logsource="product: windows", title="Win"))
    report = check_paths([tmp_path], parsers)
    assert len(report.failures) == 1 and "Bad: cannot load: Unknown modifier" in \
        report.failures[0]
    assert len(report.untested) == 1 and "Win: inactive, no samples" in report.untested[0]


def test_the_shipped_pack_passes() -> None:
    root = Path(__file__).resolve().parents[3] / "rules" / "sigma"
    if not root.is_dir():
        pytest.skip("no rule pack yet")
    report = check_paths([root], parsers)
    assert report.failures == [], report.failures[:10]


def config(tmp: Path, rules: list[str], name: str = "ronda.yaml", **extra: object) -> Path:
    body = {"sensor": {"name": "t"}, "state_dir": str(tmp / "state"), "sources": {},
            "detectors": {"sigma": {"type": "sigma", "rules": rules, **extra}},
            "responders": {}}
    return write(tmp, name, json.dumps(body))


def test_cli_rules_test(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(tmp_path, "rules/union.yml", RULE)
    write(tmp_path, "rules/union.samples.yml", SAMPLES)
    assert main(["rules", "test", str(tmp_path / "rules")]) == 0
    assert capsys.readouterr().out == "1 rules, 2 samples, 0 failures\n"
    cfg = config(tmp_path, ["rules"])
    assert main(["rules", "test", "-c", str(cfg)]) == 0
    write(tmp_path, "rules/union.samples.yml", SAMPLES.replace("nomatch:", "nomatch: []\nx:"))
    assert main(["rules", "test", "-c", str(cfg)]) == 1
    assert "FAIL" in capsys.readouterr().out
    assert main(["rules", "test", str(tmp_path / "nope")]) == 2
    assert "no such rule file or folder" in capsys.readouterr().err


def test_cli_rules_validate_and_list(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(tmp_path, "rules/union.yml", RULE)
    write(tmp_path, "rules/bad.yml", rule_text("sel: {a|nosuch: x}\ncondition: sel",
                                               title="Bad", rid="12121212-0000-4000-8000-"
                                                                "000000000001"))
    write(tmp_path, "rules/win.yml", rule_text("sel: {Image: x}\ncondition: sel",
                                               logsource="product: windows", title="Win"))
    cfg = config(tmp_path, ["rules"])
    assert main(["rules", "validate", "-c", str(cfg)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("SKIP ") and out[0].endswith(
        "bad.yml:1 12121212-0000-4000-8000-000000000001 Bad: Unknown modifier 'nosuch'")
    assert out[1].startswith("INACTIVE ") and "Win: inactive: no Ronda source produces " \
        "logsource product=windows" in out[1]
    assert out[2] == "sigma: 2 rules loaded (2 detection, 0 correlation), 1 skipped, " \
                     "1 inactive, from 3 files"
    assert out[3] == "2 rules valid in 1 detectors"
    assert main(["rules", "validate", str(tmp_path / "rules" / "union.yml")]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "1 rules valid in 1 paths"
    assert main(["rules", "list", "-c", str(cfg)]) == 0
    rows = [line.split("\t") for line in capsys.readouterr().out.splitlines()]
    assert ["sigma", RID, "medium", "policy", "UNION probe"] in rows
    assert main(["rules", "validate", "-c", str(config(tmp_path, ["nope"], "bad.yaml"))]) == 2
    assert "no such rule file or folder" in capsys.readouterr().err
    assert main(["config", "check", "-c", str(cfg)]) == 0


def test_event_timestamps() -> None:
    from detectors.sigma.samples import _event

    for value in ("2026-11-20T00:00:00Z", "2026-11-20T07:00:00+07:00", 1795132800,
                  datetime(2026, 11, 20)):
        event = _event({"dataset": "d", "timestamp": value}, 0.0)
        assert not isinstance(event, str) and event.timestamp == 1795132800.0, value
    assert _event({"dataset": "d", "timestamp": "soon"}, 0.0) == "invalid timestamp 'soon'"
    assert _event({"dataset": "d", "nosuch": 1}, 0.0) == "unknown event key 'nosuch'"
