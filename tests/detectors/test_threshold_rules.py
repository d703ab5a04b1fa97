"""Threshold rule files: loading, atomic reload, error lines, and the shipped rules."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from detectors.threshold import ThresholdConfig, ThresholdDetector
from ronda.clock import ManualClock
from ronda.component import Context
from ronda.errors import RuleError
from ronda.metrics import Metrics
from ronda.schema import Event, Severity

REPO = Path(__file__).resolve().parents[2]
SHIPPED = REPO / "rules" / "thresholds"
T0 = 1_700_000_000.0

GOOD = """\
# comment line 1
# comment line 2
- id: ronda-ssh-brute-force
  name: SSH brute force
  category: brute-force
  severity: high
  dataset: sshd.auth
  where: {event.outcome: failure}
  group_by: [source.ip]
  threshold: 3
  message: "{count} from {source.ip}"
  window: 60s
"""


def make_detector(base: Path, rules: list[str]) -> tuple[ThresholdDetector, Context]:
    ctx = Context(
        sensor="gw-01",
        clock=ManualClock(T0),
        metrics=Metrics(),
        state_dir=base / "state",
        log=logging.getLogger("test.threshold_rules"),
        base_dir=base,
    )
    return ThresholdDetector("thr", ThresholdConfig(type="threshold", rules=rules), ctx), ctx


def load_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, files: dict[str, str],
                rules: list[str] | None = None) -> list[str]:
    """Write ``files`` under tmp_path (the working folder) and return reload's problems."""
    monkeypatch.chdir(tmp_path)
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    det, _ = make_detector(Path("."), rules or ["rules/thresholds"])
    with pytest.raises(RuleError) as info:
        det.reload()
    assert str(info.value) == "\n".join(info.value.lines)
    return list(info.value.lines)


def ssh(ts: float, ip: str = "203.0.113.5", user: str = "root", outcome: str = "failure",
        invalid: bool = False) -> Event:
    fields: dict[str, Any] = {"source.ip": ip, "user.name": user, "event.outcome": outcome,
                              "event.action": "ssh_login", "ronda.ssh.invalid_user": invalid}
    return Event("sshd.auth", ts, fields, f"sshd: {outcome} for {user} from {ip}", "auth")


def web(ts: float, status: int, path: str = "/wp-login.php", ip: str = "198.51.100.7",
        dataset: str = "nginx.access") -> Event:
    fields: dict[str, Any] = {"source.ip": ip, "http.request.method": "GET",
                              "url.original": path + "?x=1", "url.path": path,
                              "http.response.status_code": status,
                              "user_agent.original": "gobuster/3.6"}
    return Event(dataset, ts, fields, f'{ip} - - "GET {path} HTTP/1.1" {status} 0', "web")


# ---------------------------------------------------------------- shipped rules


def shipped() -> ThresholdDetector:
    det, _ = make_detector(REPO, [str(SHIPPED)])
    det.reload()
    return det


def test_shipped_rules_load() -> None:
    rules = {r.id: r for r in shipped().rules()}
    assert sorted(rules) == ["ronda-http-404-storm", "ronda-ssh-brute-force",
                             "ronda-ssh-user-sweep", "ronda-web-path-sweep"]
    brute = rules["ronda-ssh-brute-force"]
    assert (brute.threshold, brute.window, brute.severity) == (10, 60.0, Severity.HIGH)
    assert brute.techniques == ("T1110.001",)
    sweep = rules["ronda-ssh-user-sweep"]
    assert (sweep.threshold, sweep.window, sweep.distinct) == (5, 300.0, "user.name")
    assert sweep.severity is Severity.MEDIUM
    storm = rules["ronda-http-404-storm"]
    assert (storm.threshold, storm.window, storm.ref.category) == (30, 60.0, "scanner")
    assert storm.techniques == ("T1595.003",)
    paths = rules["ronda-web-path-sweep"]
    assert (paths.threshold, paths.window, paths.distinct) == (60, 60.0, "url.path")
    assert paths.ref.category == "scanner" and paths.severity is Severity.MEDIUM


def test_shipped_ssh_brute_force() -> None:
    det = shipped()
    assert det.process([ssh(T0 + i, outcome="success") for i in range(20)]) == []
    assert det.process([ssh(T0 + 100 + i) for i in range(9)]) == []
    alerts = det.process([ssh(T0 + 109)])
    assert [a.rule.id for a in alerts] == ["ronda-ssh-brute-force"]
    assert alerts[0].message == "SSH brute force from 203.0.113.5: 10 failed logins in 60s"


def test_shipped_ssh_user_sweep() -> None:
    det = shipped()
    valid = [ssh(T0 + 10 * i, user=f"u{i}", ip="192.0.2.1") for i in range(8)]
    assert det.process(valid) == []
    names = ["admin", "test", "oracle", "ubuntu", "pi"]
    alerts = det.process([ssh(T0 + 20 * i, user=n, invalid=True) for i, n in enumerate(names)])
    assert [a.rule.id for a in alerts] == ["ronda-ssh-user-sweep"]
    assert alerts[0].fields["user.name"] == list(reversed(names))
    assert alerts[0].message.startswith("SSH user sweep from 203.0.113.5: 5 invalid user names")


def test_shipped_http_404_storm() -> None:
    det = shipped()
    assert det.process([web(T0 + i, 200, path="/") for i in range(100)]) == []
    assert det.process([web(T0 + 0.5 * i, 404) for i in range(29)]) == []
    alerts = det.process([web(T0 + 15, 404)])
    assert [a.rule.id for a in alerts] == ["ronda-http-404-storm"]
    assert alerts[0].techniques == ("T1595.003",)
    assert det.process([web(T0 + i, 404, dataset="apache.access", ip="x") for i in range(30)])


def test_shipped_web_path_sweep() -> None:
    det = shipped()
    events = [web(T0 + 0.5 * i, 403, path=f"/p{i % 59}") for i in range(118)]
    assert det.process(events) == []
    alerts = det.process([web(T0 + 59.5, 401, path="/backup.zip")])
    assert [a.rule.id for a in alerts] == ["ronda-web-path-sweep"]
    assert len(alerts[0].fields["url.path"]) == 10
    assert alerts[0].fields["url.path"][0] == "/backup.zip"
    # server errors are not client errors
    assert det.process([web(T0 + 70 + i * 0.1, 503, path=f"/q{i}") for i in range(100)]) == []


# ---------------------------------------------------------------- loading


def test_mapping_form_folders_and_suffixes(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "one.yml").write_text(GOOD)
    (tmp_path / "a" / "two.yaml").write_text(
        "rules:\n" + GOOD.replace("ronda-ssh-brute-force", "second").replace("\n-", "\n  -")
        .replace("\n  ", "\n    ").replace("\n    -", "\n  -")
    )
    (tmp_path / "a" / "notes.txt").write_text("not a rule file")
    (tmp_path / "a" / "empty.yml").write_text("# nothing yet\n")
    det, ctx = make_detector(tmp_path, ["a"])
    assert det.reload() == 2
    assert sorted(r.id for r in det.rules()) == ["ronda-ssh-brute-force", "second"]
    assert ctx.metrics.value("ronda_rules_loaded", detector="thr") == 2


def test_reload_is_atomic(tmp_path: Path) -> None:
    rules = tmp_path / "rules.yml"
    rules.write_text(GOOD)
    det, ctx = make_detector(tmp_path, [str(rules)])
    assert det.reload() == 1
    assert det.process([ssh(T0), ssh(T0 + 1)]) == []
    rules.write_text(GOOD.replace("window: 60s", "window: abc") + "- id: [broken\n")
    with pytest.raises(RuleError) as info:
        det.reload()
    assert info.value.lines == (
        f"{rules}:13: YAML syntax error: while parsing a flow sequence; expected ',' or ']', "
        "but got '<stream end>'",
    )
    rules.write_text(GOOD.replace("window: 60s", "window: abc"))
    with pytest.raises(RuleError) as info:
        det.reload()
    assert info.value.lines == (
        f"{rules}:12 rule 'ronda-ssh-brute-force' window: invalid duration 'abc' "
        "(expected e.g. 30s, 5m, 1h, 7d)",
    )
    # The old rules (and their state) still run.
    assert ctx.metrics.value("ronda_rules_loaded", detector="thr") == 1
    assert [a.message for a in det.process([ssh(T0 + 2)])] == ["3 from 203.0.113.5"]


def test_invalid_duration_names_file_line_rule_and_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = load_errors(tmp_path, monkeypatch, {
        "rules/thresholds/ssh.yml": GOOD.replace("window: 60s", "window: abc"),
    })
    assert lines == [
        "rules/thresholds/ssh.yml:12 rule 'ronda-ssh-brute-force' window: invalid duration "
        "'abc' (expected e.g. 30s, 5m, 1h, 7d)"
    ]


def test_yaml_syntax_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lines = load_errors(tmp_path, monkeypatch, {
        "rules/thresholds/web.yml": "- id: a\n  name: [unclosed\n  category: scanner\n",
    })
    assert len(lines) == 1
    assert lines[0].startswith("rules/thresholds/web.yml:3: YAML syntax error: ")


def test_duplicate_ids_across_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lines = load_errors(tmp_path, monkeypatch, {
        "rules/thresholds/a.yml": GOOD,
        "rules/thresholds/b.yml": "\n" + GOOD,
    })
    assert lines == [
        "rules/thresholds/b.yml:4 rule 'ronda-ssh-brute-force' id: duplicate id "
        "(first defined at rules/thresholds/a.yml:3)"
    ]


def test_unknown_category_and_severity(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = GOOD.replace("category: brute-force", "category: bruteforce").replace(
        "severity: high", "severity: huge")
    lines = load_errors(tmp_path, monkeypatch, {"rules/thresholds/ssh.yml": text})
    assert lines[0].startswith(
        "rules/thresholds/ssh.yml:5 rule 'ronda-ssh-brute-force' category: unknown category "
        "'bruteforce' (expected one of sqli, xss,"
    )
    assert lines[1] == (
        "rules/thresholds/ssh.yml:6 rule 'ronda-ssh-brute-force' severity: unknown severity "
        "'huge' (expected one of low, medium, high, critical)"
    )


def test_invalid_technique(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = GOOD.replace("severity: high", "severity: high\n  technique: T1110.1")
    lines = load_errors(tmp_path, monkeypatch, {"rules/thresholds/ssh.yml": text})
    assert lines == [
        "rules/thresholds/ssh.yml:7 rule 'ronda-ssh-brute-force' technique: invalid ATT&CK "
        "technique 'T1110.1' (expected e.g. T1110 or T1110.001)"
    ]


def test_missing_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lines = load_errors(tmp_path, monkeypatch, {}, rules=["rules/nope.yml"])
    assert lines == ["rules/nope.yml: no such rule file or folder"]


def test_shape_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lines = load_errors(tmp_path, monkeypatch, {
        "rules/thresholds/a.yml": "id: x\n",
        "rules/thresholds/b.yml": "just text\n",
        "rules/thresholds/c.yml": "- just text\n",
        "rules/thresholds/d.yml": "rules: 5\n",
    })
    assert lines == [
        "rules/thresholds/a.yml:1: unknown top-level key 'id' (expected 'rules')",
        "rules/thresholds/b.yml:1: expected a list of rules or a mapping with key 'rules'",
        "rules/thresholds/c.yml:1 rule #1: expected a mapping of keys, got a text",
        "rules/thresholds/d.yml:1: 'rules' must hold a list of rules",
    ]


def test_every_problem_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = """\
- name: no id
  category: scanner
  severity: low
  group_by: [source.ip]
  window: 1m
  threshold: 0
- id: bad keys
  name: x
  category: scanner
  severity: low
  technique: [T1110.001, 1110]
  group_by: []
  window: 0s
  threshold: 5
  colour: red
  where:
    http.response.status_code: {between: [1, 2]}
  message: "{count"
- id: dup-keys
  name: x
  name: y
  category: scanner
  severity: low
  group_by: source.ip
  window: 1m
  threshold: 5
"""
    lines = load_errors(tmp_path, monkeypatch, {"rules/thresholds/x.yml": text})
    f = "rules/thresholds/x.yml"
    assert lines == [
        f"{f}:1 rule #1 id: missing required key",
        f"{f}:6 rule #1 threshold: Input should be greater than or equal to 1 (got 0)",
        f"{f}:7 rule 'bad keys' id: invalid id 'bad keys' (letters, digits and _ . : - ; "
        "starting with a letter or digit)",
        f"{f}:11 rule 'bad keys' technique[1]: Input should be a valid string (got 1110)",
        f"{f}:13 rule 'bad keys' window: window must be longer than zero",
        f"{f}:15 rule 'bad keys' colour: unknown key",
        f"{f}:17 rule 'bad keys' where.http.response.status_code.between: unknown operator "
        "'between' (expected one of gt, gte, lt, lte, ne, in, prefix, exists)",
        f"{f}:18 rule 'bad keys' message: unbalanced '{{' in message at character 1 "
        "(write {{ or }} for a literal brace)",
        f"{f}:21 rule 'dup-keys' name: duplicate key",
    ]


def test_empty_rule_list_is_fine(tmp_path: Path) -> None:
    (tmp_path / "rules.yml").write_text("rules: []\n")
    det, _ = make_detector(tmp_path, ["rules.yml"])
    assert det.reload() == 0
    assert det.process([ssh(T0)]) == []
