"""Ronda's Elasticsearch templates, without a server: the files, what is put, and that
every field Ronda writes has an explicit mapping of a fitting type."""

from __future__ import annotations

import fnmatch
import json
from pathlib import Path
from typing import Any

import pytest

from responders.estemplates import (
    ALERT_TEMPLATE,
    ENV_DIR,
    EVENT_TEMPLATE,
    LIFECYCLE,
    content_hash,
    desired_objects,
    field_type,
    mapping_of,
    read_files,
    template_dir,
)
from ronda.clock import ManualClock
from ronda.schema import Alert, Event, RuleRef, Severity
from sensor.parsers.authlog import AuthLogParser
from sensor.parsers.web import AccessLogParser

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "ronda" / "data" / "demo"
T0 = 1_795_000_000.0

# What a value may be stored as, by its Python type.
FITS: dict[type, set[str]] = {
    str: {"keyword", "text", "ip", "date", "flattened"},
    bool: {"boolean", "keyword"},
    int: {"long", "integer", "float", "double", "keyword", "date"},
    float: {"float", "double"},
}


def rich_alert() -> Alert:
    """An alert with every attribute set and the fields a web-attack alert carries."""
    rule = RuleRef(id="ronda-web-sqli", name="SQL injection attempt", ruleset="ronda-web",
                   category="sqli", description="UNION SELECT in the query string",
                   references=("https://owasp.org/www-community/attacks/SQL_Injection",))
    return Alert(
        rule=rule, severity=Severity.HIGH, message="SQL injection from 203.0.113.45",
        first_seen=T0, last_seen=T0 + 42.5, key="203.0.113.45", count=7,
        techniques=("T1190", "T1059"), evidence=("GET /?id=1 UNION SELECT 1,2", "x" * 5000),
        sensor="web-pemkab", detector="sigma", source="nginx",
        fields={
            "source.ip": "203.0.113.45", "source.port": 51234, "source.address": "203.0.113.45",
            "source.domain": "scanner.example", "source.bytes": 512, "source.packets": 4,
            "source.geo.location": {"lat": -6.2, "lon": 106.8},
            "source.geo.country_iso_code": "ID", "source.geo.country_name": "Indonesia",
            "source.geo.city_name": "Jakarta", "source.geo.region_name": "DKI Jakarta",
            "source.geo.continent_name": "Asia",
            "source.as.number": 64500, "source.as.organization.name": "Example AS",
            "destination.ip": "10.20.1.5", "destination.port": 443,
            "destination.domain": "bogorkab.go.id",
            "url.original": "/?id=1%20UNION%20SELECT%201,2", "url.path": "/",
            "url.query": "id=1%20UNION%20SELECT%201,2", "url.domain": "bogorkab.go.id",
            "url.extension": "php",
            "http.request.method": "GET", "http.request.referrer": "-",
            "http.request.bytes": 300, "http.response.status_code": 200,
            "http.response.body.bytes": 5120, "http.version": "1.1",
            "user_agent.original": "sqlmap/1.8", "user.name": "admin",
            "user.effective.name": "root", "user.target.name": "root", "user.id": "0",
            "host.name": "web-pemkab", "host.hostname": "web-pemkab", "host.ip": "10.20.1.5",
            "event.category": ["web", "intrusion_detection"], "event.action": "request",
            "event.outcome": "success", "event.dataset": "nginx.access",
            "event.duration": 1_500_000,
            "network.protocol": "http", "network.transport": "tcp", "network.type": "ipv4",
            "network.iana_number": "6", "network.community_id": "1:abc=",
            "network.bytes": 5632, "network.packets": 9, "network.forwarded_ip": "198.51.100.7",
            "process.name": "sshd", "process.pid": 4101, "process.command_line": "sudo -i",
            "file.path": "/var/www/html/shell.php", "file.size": 1024,
            "file.hash.sha256": "ab" * 32,
            "dns.question.name": "x.evil.example", "dns.question.type": "TXT",
            "tls.version": "1.3", "tls.client.server_name": "bogorkab.go.id",
            "log.file.path": "/var/log/nginx/access.log", "log.offset": 123456,
            "threat.technique.name": ["Exploit Public-Facing Application"],
            "tags": ["web", "sqli"],
        },
    )


def leaves(doc: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    for key, value in doc.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and not {"lat", "lon"} <= set(value):
            out += leaves(value, name + ".")
        else:
            out.append((name, value))
    return out


def fits(value: Any, mapped: str) -> bool:
    if isinstance(value, list):
        return all(fits(v, mapped) for v in value)
    if isinstance(value, dict):
        return mapped in ("geo_point", "flattened", "object")
    return mapped in FITS[type(value)]


def unmapped(doc: dict[str, Any], mapping: dict[str, Any]) -> list[str]:
    bad = []
    for name, value in leaves(doc):
        mapped = field_type(mapping, name)
        if mapped is None or not fits(value, mapped):
            bad.append(f"{name}={value!r:.40} mapped as {mapped}")
    return bad


def test_files_are_valid_json_objects() -> None:
    files = list(template_dir().rglob("*.json"))
    assert len(files) >= 8
    for path in files:
        assert isinstance(json.loads(path.read_text()), dict), path


def test_index_templates_compose_existing_components_and_win() -> None:
    files = read_files()
    comps = files["component_template"]
    index = files["index_template"]
    assert set(index) == {ALERT_TEMPLATE, EVENT_TEMPLATE}
    for body in index.values():
        assert body["data_stream"] == {}
        assert body["priority"] > 100  # above the built-in logs template
        assert all(c in comps for c in body["composed_of"])
    alert, event = index[ALERT_TEMPLATE], index[EVENT_TEMPLATE]
    # both patterns match alert streams: the alert template must win
    stream = "logs-ronda.alert-default"
    assert any(fnmatch.fnmatchcase(stream, p) for p in event["index_patterns"])
    assert any(fnmatch.fnmatchcase(stream, p) for p in alert["index_patterns"])
    assert alert["priority"] > event["priority"]
    assert any(fnmatch.fnmatchcase("logs-ronda.nginx.access-default", p)
               for p in event["index_patterns"])
    assert not any(fnmatch.fnmatchcase("logs-ronda.nginx.access-default", p)
                   for p in alert["index_patterns"])


def test_ilm_only_where_the_server_has_it() -> None:
    without = desired_objects(ilm=False)
    assert not [o for o in without if o.kind == "ilm_policy"]
    for o in without:
        assert "lifecycle" not in o.body.get("template", {}).get("settings", {}).get("index", {})
    with_ilm = desired_objects(ilm=True)
    policies = {o.name for o in with_ilm if o.kind == "ilm_policy"}
    assert policies == set(LIFECYCLE.values())
    kinds = [o.kind for o in with_ilm]
    assert kinds == sorted(kinds, key=["ilm_policy", "component_template",
                                       "index_template"].index)  # policies first
    for o in with_ilm:
        if o.name in LIFECYCLE:
            assert o.body["template"]["settings"]["index"]["lifecycle"] == {
                "name": LIFECYCLE[o.name]}


def test_meta_and_content_hash() -> None:
    a = desired_objects(ilm=False)
    b = desired_objects(ilm=False)
    assert [o.content_hash for o in a] == [o.content_hash for o in b]
    for o in a:
        assert o.body["_meta"]["managed_by"] == "ronda"
        assert o.content_hash == content_hash(o.body)
    assert len({o.content_hash for o in a}) == len(a)
    settings = {o.name: o for o in a}["ronda-alert@settings"]
    with_ilm = {o.name: o for o in desired_objects(ilm=True)}["ronda-alert@settings"]
    assert settings.content_hash != with_ilm.content_hash


def test_every_field_of_a_rich_alert_is_mapped() -> None:
    mapping = mapping_of(desired_objects(ilm=False), ALERT_TEMPLATE)
    doc = rich_alert().to_ecs()
    doc["data_stream"] = {"type": "logs", "dataset": "ronda.alert", "namespace": "default"}
    assert unmapped(doc, mapping) == []
    assert field_type(mapping, "@timestamp") == "date"
    assert field_type(mapping, "source.ip") == "ip"
    assert field_type(mapping, "event.severity") == "long"
    assert field_type(mapping, "event.risk_score") == "float"
    assert field_type(mapping, "source.geo.location") == "geo_point"
    assert field_type(mapping, "ronda.count") == "long"
    assert field_type(mapping, "ronda.first_seen") == "date"


def test_a_minimal_alert_is_mapped_too() -> None:
    rule = RuleRef(id="r", name="n", ruleset="s", category="brute-force")
    alert = Alert(rule=rule, severity=Severity.LOW, message="m", first_seen=T0, last_seen=T0)
    mapping = mapping_of(desired_objects(ilm=False), ALERT_TEMPLATE)
    assert unmapped(alert.to_ecs(), mapping) == []


def demo_events() -> list[Event]:
    events: list[Event] = []
    for name, parser in (("access.log", AccessLogParser("nginx.access")),
                         ("auth.log", AuthLogParser(ManualClock(T0)))):
        for line in (DEMO / name).read_text().splitlines():
            ev = parser(line)
            if ev is not None:
                events.append(ev)
    return events


ECS_ROOTS = ("@timestamp", "message", "event", "source", "destination", "url", "http",
             "user_agent", "user", "host", "observer", "process", "network", "log", "file",
             "dns", "tls", "rule", "threat", "group", "data_stream")


def test_every_ecs_field_of_parsed_events_is_mapped() -> None:
    """Events from the shipped parsers: ECS fields explicit; Ronda's own extras
    (``ronda.*``, ``system.*``) may be dynamic (strings become keyword)."""
    mapping = mapping_of(desired_objects(ilm=False), EVENT_TEMPLATE)
    events = demo_events()
    assert len(events) > 100
    bad: set[str] = set()
    for ev in events:
        doc = ev.to_ecs(observer="web-pemkab")
        ecs = {k: v for k, v in doc.items() if k in ECS_ROOTS}
        bad.update(unmapped(ecs, mapping))
    assert sorted(bad) == []
    dyn = mapping_of(desired_objects(ilm=False), EVENT_TEMPLATE)["dynamic_templates"]
    assert dyn[0]["strings_as_keyword"]["mapping"]["type"] == "keyword"


def test_template_dir_override(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from ronda.errors import ConfigError

    monkeypatch.setenv(ENV_DIR, str(tmp_path))
    with pytest.raises(ConfigError, match="no index_templates/ folder"):
        template_dir()
    src = ROOT / "dashboards" / "elasticsearch"
    for path in src.rglob("*.json"):
        dest = tmp_path / path.relative_to(src)
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(path.read_text())
    assert template_dir() == tmp_path
    assert len(desired_objects(ilm=False)) == 6
