"""Loading: every bad rule gives one clear problem line, the others load."""

from __future__ import annotations

from pathlib import Path

import pytest

from detectors.sigma.compile import compile_rules
from detectors.sigma.correlation import CorrelationSet
from detectors.sigma.ruleset import Ruleset
from tests.detectors.sigma.sigma_support import compile_text, rule_text, web, write

GOOD = rule_text("sel: {c-uri|contains: evil}\ncondition: sel",
                 rid="11111111-1111-4111-8111-111111111111", title="Good")


def only_skip(tmp: Path, *docs: str) -> str:
    compiled = compile_text(tmp, *docs)
    assert len(compiled.skipped) == 1, [p.text() for p in compiled.skipped]
    return compiled.skipped[0].text()


@pytest.mark.parametrize(("detection", "reason"), [
    ("sel: {c-uri|nosuch: x}\ncondition: sel", "Unknown modifier"),
    ("sel: {c-uri: x}\ncondition: other", "Detection 'other' not defined"),
    ("sel: {c-uri: x}\ncondition: sel | count() > 5", "pipe syntax"),
    ("sel: {c-uri: x}\ncondition: sel and (", "Expected"),
    ("sel: {c-uri|cidr: 10.0.0.300/8}\ncondition: sel", "Invalid CIDR"),
    ("sel: {c-uri|base64: 'a*b'}\ncondition: sel", "wildcards"),
    ("sel: {c-uri|re: '(unclosed'}\ncondition: sel", "regular expression"),
    ("sel: {c-uri|lt: abc}\ncondition: sel", "incompatible"),
    ("condition: sel", "No detections"),
    ("sel: {c-uri: x}", "condition"),
])
def test_bad_detections(tmp_path: Path, detection: str, reason: str) -> None:
    line = only_skip(tmp_path, GOOD, rule_text(detection, rid="22222222-2222-4222-8222-"
                                                          "222222222222", title="Bad one"))
    assert line.startswith("SKIP ") and "22222222-2222-4222-8222-222222222222 Bad one: " in line
    assert reason.lower() in line.lower(), line
    assert "\n" not in line


def test_problem_line_names_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, "r.yml", GOOD + "---\n" + rule_text(
        "sel: {c-uri|nosuch: x}\ncondition: sel", rid="33333333-3333-4333-8333-333333333333",
        title="Third"))
    compiled = compile_rules([path])
    assert len(compiled.rules) == 1
    (problem,) = compiled.skipped
    assert problem.file.endswith("r.yml") and problem.line == 10
    assert problem.text().startswith(f"SKIP {problem.file}:10 3333")


def test_metadata_problems(tmp_path: Path) -> None:
    assert "identifier must be an UUID" in only_skip(tmp_path, rule_text(
        "sel: {c-uri: x}\ncondition: sel", rid="not-a-uuid"))
    no_id = "title: t\nlogsource: {category: webserver}\ndetection: {s: {a: 1}, condition: s}\n"
    assert "no id" in only_skip(tmp_path, no_id)
    no_title = rule_text("s: {a: 1}\ncondition: s").replace("title: Test rule\n", "")
    assert "must have a title" in only_skip(tmp_path, no_title)
    bad_tag = rule_text("s: {a: 1}\ncondition: s", extra="tags: [ronda.category.nosuch]")
    assert "unknown category 'nosuch'" in only_skip(tmp_path, bad_tag)
    bad_level = rule_text("s: {a: 1}\ncondition: s", extra="level: severe")
    assert "not a valid Sigma rule level" in only_skip(tmp_path, bad_level)
    no_logsource = "title: t\nid: 44444444-4444-4444-8444-444444444444\n" \
                   "detection: {s: {a: 1}, condition: s}\n"
    assert "log source" in only_skip(tmp_path, no_logsource)


def test_yaml_problems(tmp_path: Path) -> None:
    path = write(tmp_path, "broken.yml", GOOD + "---\ntitle: [unclosed\n")
    compiled = compile_rules([path])
    assert len(compiled.rules) == 1  # the document before the error still loads
    (problem,) = compiled.skipped
    assert problem.text().startswith(f"SKIP {problem.file}:") and "YAML syntax error" in \
        problem.reason
    compiled = compile_rules([write(tmp_path, "list.yml", "- a\n- b\n")])
    assert "expected a mapping" in compiled.skipped[0].reason
    dup = GOOD.replace("title: Good\n", "title: Good\ntitle: Again\n")
    assert "duplicate key 'title'" in only_skip(tmp_path, dup)
    binary = tmp_path / "bin.yml"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    assert "cannot read" in compile_rules([binary]).skipped[0].reason


def test_duplicate_ids(tmp_path: Path) -> None:
    a = write(tmp_path, "a.yml", GOOD)
    b = write(tmp_path, "b.yml", GOOD.replace("title: Good", "title: Copy"))
    compiled = compile_rules([a, b])
    assert len(compiled.rules) == 1
    assert "duplicate id (first defined at" in compiled.skipped[0].reason


def test_missing_paths_and_barren_paths(tmp_path: Path) -> None:
    compiled = compile_rules([tmp_path / "nope"])
    assert compiled.missing and "no such rule file or folder" in compiled.missing[0]
    bad = write(tmp_path / "bad", "x.yml", "title: [")
    good = write(tmp_path / "good", "g.yml", GOOD)
    compiled = compile_rules([bad.parent, good.parent])
    assert [Path(p).name for p in compiled.barren] == ["bad"]


def test_samples_files_are_not_rules(tmp_path: Path) -> None:
    write(tmp_path, "r.yml", GOOD)
    write(tmp_path, "r.samples.yml", "format: nginx\nmatch: ['x']\n")
    compiled = compile_rules([tmp_path])
    assert [p.name for p in compiled.files] == ["r.yml"] and not compiled.problems


def test_collection_actions(tmp_path: Path) -> None:
    text = (
        "action: global\ntitle: Shared\nlogsource: {category: webserver}\n"
        "detection: {condition: sel}\n---\n"
        "id: 55555555-5555-4555-8555-555555555555\ndetection: {sel: {c-uri: /a}}\n---\n"
        "id: 66666666-6666-4666-8666-666666666666\ndetection: {sel: {c-uri: /b}}\n"
    )
    compiled = compile_rules([write(tmp_path, "g.yml", text)])
    assert not compiled.problems
    ruleset = Ruleset(compiled.rules)
    assert [r.id[:4] for r in ruleset.match(web("/b"))] == ["6666"]


def test_filters_apply_to_rules(tmp_path: Path) -> None:
    text = GOOD + (
        "---\ntitle: Not from the office\nfilter:\n  rules: [11111111-1111-4111-8111-"
        "111111111111]\n  selection: {c-ip|cidr: 10.0.0.0/8}\n  condition: not selection\n"
        "logsource: {category: webserver}\n"
    )
    compiled = compile_rules([write(tmp_path, "f.yml", text)])
    assert not compiled.problems, [p.text() for p in compiled.problems]
    ruleset = Ruleset(compiled.rules)
    assert ruleset.match(web("/evil", ip="203.0.113.1"))
    assert not ruleset.match(web("/evil", ip="10.1.1.1"))


def test_detection_names_starting_with_not(tmp_path: Path) -> None:
    compiled = compile_text(tmp_path, rule_text(
        "sel: {c-uri|contains: x}\nnotfound: {sc-status: 404}\ncondition: sel and not notfound"))
    assert not compiled.problems
    ruleset = Ruleset(compiled.rules)
    assert ruleset.match(web("/x")) and not ruleset.match(web("/x", status=404))


def test_correlation_problems(tmp_path: Path) -> None:
    corr = (
        "title: Many\nid: 77777777-7777-4777-8777-777777777777\ncorrelation:\n"
        "  type: event_count\n  rules: [{ref}]\n  group-by: [source.ip]\n  timespan: 1m\n"
        "  condition: {{gte: 3}}\n"
    )
    bad_base = rule_text("sel: {c-uri|nosuch: x}\ncondition: sel",
                         rid="88888888-8888-4888-8888-888888888888")
    compiled = compile_text(tmp_path, bad_base, corr.format(ref="88888888-8888-4888-8888-"
                                                                "888888888888"))
    reasons = sorted(p.reason for p in compiled.skipped)
    assert any("which was skipped" in r for r in reasons), reasons
    compiled = compile_text(tmp_path, GOOD, corr.format(ref="nosuchrule"))
    assert "cannot resolve its rules" in compiled.skipped[0].reason
    compiled = compile_text(tmp_path, GOOD, corr.format(ref="11111111-1111-4111-8111-"
                                                            "111111111111"))
    assert not compiled.problems and len(compiled.correlations) == 1


def test_check_hook_reports_unsupported_correlations(tmp_path: Path) -> None:
    corr = (
        "title: Many\nid: 77777777-7777-4777-8777-777777777777\ncorrelation:\n"
        "  type: event_count\n  rules: [11111111-1111-4111-8111-111111111111]\n"
        "  group-by: [source.ip]\n  timespan: 1m\n  condition: {gte: 3}\n"
    )
    path = write(tmp_path, "c.yml", GOOD + "---\n" + corr)
    compiled = compile_rules([path], None, lambda rule: "not today")
    assert compiled.skipped[0].reason == "not today"
    assert compile_rules([path], None, CorrelationSet.check).correlations
