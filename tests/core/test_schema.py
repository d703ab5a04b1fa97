import json

from ronda.schema import CATEGORIES, Alert, Event, RuleRef, Severity, unflatten


def _alert(**kw: object) -> Alert:
    base: dict[str, object] = dict(
        rule=RuleRef(id="r1", name="Rule one", ruleset="test", category="brute-force"),
        severity=Severity.HIGH, message="m", first_seen=1_700_000_000.0,
        last_seen=1_700_000_010.5, key="203.0.113.5", fields={"source.ip": "203.0.113.5"},
        sensor="s1", techniques=("T1110.001",))
    base.update(kw)
    return Alert(**base)  # type: ignore[arg-type]


def test_alert_id_is_deterministic_and_ignores_count() -> None:
    a = _alert()
    assert a.id == _alert().id
    assert a.id == a.model_copy(update={"count": 7, "last_seen": 1_800_000_000.0}).id
    assert a.id != _alert(key="other").id
    assert a.id != _alert(first_seen=1_700_000_001.0).id


def test_alert_ecs_document() -> None:
    doc = _alert(count=3).to_ecs()
    json.dumps(doc)
    assert doc["@timestamp"] == "2023-11-14T22:13:30.500Z"
    assert doc["event"]["kind"] == "alert"
    assert doc["event"]["id"] == _alert().id
    assert doc["event"]["severity"] == 73
    assert doc["rule"] == {"id": "r1", "name": "Rule one", "ruleset": "test",
                           "category": "brute-force"}
    assert doc["threat"]["technique"]["id"] == ["T1110.001"]
    assert doc["threat"]["framework"] == "MITRE ATT&CK"
    assert doc["source"]["ip"] == "203.0.113.5"
    assert doc["ronda"]["count"] == 3
    assert doc["ronda"]["severity"] == "high"
    assert doc["observer"]["name"] == "s1"


def test_category_vocabulary_is_enforced() -> None:
    assert "gambling-spam" in CATEGORIES and len(CATEGORIES) == 19
    try:
        RuleRef(id="x", name="x", ruleset="t", category="nonsense")  # type: ignore[arg-type]
    except ValueError:
        return
    raise AssertionError("unknown category accepted")


def test_severity_parse_and_order() -> None:
    assert Severity.parse("HIGH") is Severity.HIGH
    assert Severity.LOW.rank < Severity.MEDIUM.rank < Severity.HIGH.rank < Severity.CRITICAL.rank
    try:
        Severity.parse("urgent")
    except ValueError as exc:
        assert "expected one of low, medium, high, critical" in str(exc)
    else:
        raise AssertionError


def test_unflatten_collision_and_event_doc() -> None:
    assert unflatten({"a": 1, "a.b": 2}) == {"a": {"value": 1, "b": 2}}
    doc = Event("nginx.access", 0.0, {"source.ip": "192.0.2.1"}, "line", "web").to_ecs("s")
    assert doc["source"]["ip"] == "192.0.2.1"
    assert doc["event"]["dataset"] == "nginx.access"
    assert doc["message"] == "line"
