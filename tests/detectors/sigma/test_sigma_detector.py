"""SigmaDetector: config, reload semantics, alerts, correlations, metrics, registry."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from pydantic import ValidationError

from detectors.sigma.detector import SigmaConfig, SigmaDetector
from ronda.daemon.registry import DETECTORS
from ronda.errors import RuleError
from ronda.schema import Severity
from tests.detectors.sigma.sigma_support import T0, make_ctx, parsers, rule_text, web, write

SQLI = rule_text(
    "keywords: ['union select', 'union%20select']\ncondition: keywords",
    rid="aaaaaaaa-0000-4000-8000-000000000001", title="SQL injection probe",
    extra="level: high\ntags: [attack.initial-access, attack.t1190, ronda.category.sqli]\n"
          "description: UNION-based SQL injection\nreferences: [https://example.org/sqli]",
)
FAILED = rule_text(
    "sel: {event.action: ssh_login, event.outcome: failure}\ncondition: sel",
    rid="bbbbbbbb-0000-4000-8000-000000000001", title="SSH login failed",
    logsource="product: linux\nservice: sshd", extra="name: ssh_failed\nlevel: low",
)
BRUTE = """title: SSH brute force
id: cccccccc-0000-4000-8000-000000000001
level: high
tags: [ronda.category.brute-force]
correlation:
  type: event_count
  rules: [ssh_failed]
  group-by: [source.ip]
  timespan: 1m
  condition: {gte: 5}
"""


def detector(tmp: Path, *docs: str, rules: list[str] | None = None,
             **cfg: object) -> SigmaDetector:
    if docs:
        write(tmp / "rules", "r.yml", "\n---\n".join(docs))
    config = SigmaConfig(type="sigma", rules=rules or ["rules"], **cfg)  # type: ignore[arg-type]
    det = SigmaDetector("sigma", config, make_ctx(tmp))
    det.reload()
    return det


def failures(n: int, ip: str = "203.0.113.45", start: int = 0) -> list:  # type: ignore[type-arg]
    parse = parsers("sshd")
    return [parse(f"Nov 20 09:00:{start + i:02d} web1 sshd[{i}]: Failed password for root "
                  f"from {ip} port {4000 + i} ssh2") for i in range(n)]


def test_registered_and_config_validated() -> None:
    assert DETECTORS["sigma"] is SigmaDetector
    with pytest.raises(ValidationError):
        SigmaConfig(type="sigma", rules=["x"], nosuch=1)  # type: ignore[call-arg]
    with pytest.raises(ValidationError):
        SigmaConfig(type="sigma", rules=["x"], max_groups=0)


def test_alert_of_a_base_rule(tmp_path: Path) -> None:
    det = detector(tmp_path, SQLI)
    event = web("/berita?id=1%20UNION%20SELECT%201,2", ip="198.51.100.7", method="GET",
                url__domain="pemkab.go.id", http__request__referrer="-")
    event.source = "web"
    (alert,) = det.process([event])
    assert alert.rule.id == "aaaaaaaa-0000-4000-8000-000000000001"
    assert alert.rule.name == "SQL injection probe" and alert.rule.ruleset == "sigma"
    assert alert.rule.category == "sqli" and alert.rule.description == "UNION-based SQL injection"
    assert alert.rule.references == ("https://example.org/sqli",)
    assert alert.severity is Severity.HIGH and alert.techniques == ("T1190",)
    assert alert.key == "198.51.100.7"
    assert alert.message == ("SQL injection probe from 198.51.100.7: GET "
                             "/berita?id=1%20UNION%20SELECT%201,2")
    assert alert.fields["source.ip"] == "198.51.100.7"
    assert alert.fields["url.original"] == "/berita?id=1%20UNION%20SELECT%201,2"
    assert alert.fields["http.response.status_code"] == 200
    assert alert.fields["user_agent.original"] == "curl/8"
    assert alert.evidence == (event.message,)
    assert (alert.first_seen, alert.last_seen) == (T0, T0)
    assert (alert.sensor, alert.detector, alert.source) == ("gw-01", "sigma", "web")
    doc = alert.to_ecs()
    assert doc["rule"]["id"] == alert.rule.id and doc["threat"]["technique"]["id"] == ["T1190"]


def test_long_evidence_is_cut(tmp_path: Path) -> None:
    det = detector(tmp_path, SQLI)
    (alert,) = det.process([web("/?q=union select " + "x" * 3000)])
    assert len(alert.evidence[0]) == 1024


def test_datasets_route_rules(tmp_path: Path) -> None:
    det = detector(tmp_path, SQLI, FAILED)
    sshd = failures(1)[0]
    sshd.message += " union select"
    assert [a.rule.name for a in det.process([sshd])] == ["SSH login failed"]


def test_login_alert_message_and_key(tmp_path: Path) -> None:
    det = detector(tmp_path, FAILED)
    (alert,) = det.process(failures(1))
    assert alert.message == "SSH login failed from 203.0.113.45: user root"
    assert alert.key == "203.0.113.45" and alert.rule.category == "brute-force"
    assert alert.severity is Severity.LOW


def test_correlation_suppresses_its_base_rule_and_alerts(tmp_path: Path) -> None:
    det = detector(tmp_path, FAILED, BRUTE)
    alerts = det.process(failures(4))
    assert alerts == []
    alerts = det.process(failures(1, start=10))
    assert [a.rule.name for a in alerts] == ["SSH brute force"]
    assert alerts[0].rule.category == "brute-force"
    names = [ref.name for ref, _ in det.rule_info()]
    assert names == ["SSH login failed", "SSH brute force"]


def test_generate_true_keeps_the_base_alerts(tmp_path: Path) -> None:
    det = detector(tmp_path, FAILED, BRUTE.replace("type: event_count", "type: event_count\n"
                                                                         "  generate: true"))
    alerts = det.process(failures(5))
    assert [a.rule.name for a in alerts].count("SSH login failed") == 5
    assert [a.rule.name for a in alerts].count("SSH brute force") == 1


def test_reload_keeps_windows_of_unchanged_correlations(tmp_path: Path) -> None:
    det = detector(tmp_path, FAILED, BRUTE)
    assert det.process(failures(3)) == []
    write(tmp_path / "rules", "extra.yml", SQLI)
    assert det.reload() == 3
    assert [a.rule.name for a in det.process(failures(2, start=20))] == ["SSH brute force"]


def test_reload_skips_bad_rules_and_logs_each_once(tmp_path: Path,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    bad = rule_text("sel: {c-uri|nosuch: x}\ncondition: sel", title="Broken")
    inactive = rule_text("sel: {Image: x}\ncondition: sel", logsource="category: "
                         "process_creation\nproduct: windows")
    with caplog.at_level(logging.INFO, logger="test.sigma"):
        det = detector(tmp_path, SQLI, bad, inactive)
    skips = [r.getMessage() for r in caplog.records if "SKIP" in r.getMessage()]
    assert len(skips) == 1 and "Broken: Unknown modifier 'nosuch'" in skips[0]
    assert any("1 rules inactive" in r.getMessage() for r in caplog.records)
    assert det.ctx.metrics.value("ronda_rules_loaded", detector="sigma") == 2
    assert det.process([web("/?q=UNION SELECT")])


def test_reload_errors_keep_the_running_rules(tmp_path: Path) -> None:
    det = detector(tmp_path, SQLI)
    (tmp_path / "rules" / "r.yml").write_text("title: [broken", encoding="utf-8")
    with pytest.raises(RuleError) as err:
        det.reload()
    assert "not one rule could be loaded" in err.value.lines[0]
    assert any("YAML syntax error" in line for line in err.value.lines[1:])
    assert det.process([web("/?q=UNION SELECT")])  # still the old rules
    det.config = SigmaConfig(type="sigma", rules=["nope"])
    with pytest.raises(RuleError, match="no such rule file or folder"):
        det.reload()


def test_an_empty_folder_is_no_error(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    det = detector(tmp_path, rules=["empty"])
    assert det.rule_info() == [] and det.process([web()]) == []


def test_placeholders_from_config(tmp_path: Path) -> None:
    rule = rule_text("sel: {c-uri|expand|startswith: '%admin%'}\ncondition: sel")
    det = detector(tmp_path, rule, placeholders={"admin": ["/wp-admin/", "/administrator/"]})
    assert det.process([web("/administrator/index.php")])
    assert det.process([web("/berita")]) == []


def test_metrics(tmp_path: Path) -> None:
    det = detector(tmp_path, SQLI)
    det.process([web("/"), web("/?q=union select")])
    metrics = det.ctx.metrics
    assert metrics.value("ronda_received_total", component="sigma") == 2
    assert metrics.value("ronda_emitted_total", component="sigma") == 1


def test_copies_share_one_matcher(tmp_path: Path) -> None:
    copies = [SQLI.replace("aaaaaaaa-0000-4000-8000-000000000001",
                           f"aaaaaaaa-0000-4000-8000-{i:012d}") for i in range(1, 11)]
    det = detector(tmp_path, *copies)
    assert det.engine.ruleset.stats("nginx.access")[0] == 1
    alerts = det.process([web("/?q=union select")])
    assert len({a.rule.id for a in alerts}) == 10 and len({a.id for a in alerts}) == 10
    assert all(a.message.startswith("SQL injection probe from") for a in alerts)
    assert alerts[0].fields == alerts[1].fields and alerts[0].fields is not alerts[1].fields


def test_a_correlation_the_engine_refuses_is_skipped_alone(tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch
                                                           ) -> None:
    import detectors.sigma.engine as engine_module

    real = engine_module.CorrelationSet

    class Picky(real):  # type: ignore[misc, valid-type]
        def __init__(self, rules, ctx, detector, max_groups):  # type: ignore[no-untyped-def]
            if any(str(r.id).startswith("99999999") for r in rules):
                raise ValueError("cannot build this one")
            super().__init__(rules, ctx, detector, max_groups)

    monkeypatch.setattr(engine_module, "CorrelationSet", Picky)
    other = BRUTE.replace("cccccccc-0000-4000-8000-000000000001",
                          "99999999-0000-4000-8000-000000000001").replace("SSH brute force",
                                                                          "Other")
    det = detector(tmp_path, FAILED, BRUTE, other)
    (problem,) = det.engine.problems
    assert problem.rule_id.startswith("99999999") and "cannot build this one" in problem.reason
    assert [a.rule.name for a in det.process(failures(5))] == ["SSH brute force"]


def _pack_copy(n: int) -> str:
    base = f"""title: failed login {n}
id: 0000000{n}-aaaa-4aaa-8aaa-00000000000{n}
name: failed_{n}
logsource: {{product: linux, service: sshd}}
detection:
  selection: {{event.action: ssh_login, event.outcome: failure}}
  condition: selection
level: low"""
    corr = f"""title: brute force {n}
id: 0000000{n}-bbbb-4bbb-8bbb-00000000000{n}
name: brute_{n}
correlation:
  type: event_count
  rules: [failed_{n}]
  group-by: [source.ip]
  timespan: 1m
  condition: {{gte: 3}}
level: high"""
    return f"{base}\n---\n{corr}"


def test_identical_correlations_under_other_ids_share_one_window(tmp_path: Path) -> None:
    """A pack loaded twice under new ids: one window counts, every copy alerts."""
    det = detector(tmp_path, _pack_copy(1), _pack_copy(2), _pack_copy(3))
    correlations = det._engine.correlations if det._engine else None
    assert correlations is not None
    # Only the first copy's base rule is fed; the others are neither fed nor alert alone.
    assert correlations.base_ids() == {"00000001-aaaa-4aaa-8aaa-000000000001"}
    assert len(correlations.suppressed_ids()) == 3
    alerts = det.process(failures(3))
    assert sorted(a.rule.id for a in alerts) == [
        f"0000000{n}-bbbb-4bbb-8bbb-00000000000{n}" for n in (1, 2, 3)]
    assert {a.rule.name for a in alerts} == {"brute force 1", "brute force 2", "brute force 3"}
    assert len({a.id for a in alerts}) == 3  # three alerts, not one
    assert all(a.count == 1 and a.key == "203.0.113.45" for a in alerts)
    # The building blocks of every copy stay silent (generate: false).
    assert not [a for a in alerts if a.rule.name.startswith("failed login")]
