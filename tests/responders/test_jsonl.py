"""JsonlResponder: one ECS document per line, to a file or standard output."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest

from responders.jsonl import JsonlConfig, JsonlResponder
from ronda.clock import ManualClock
from ronda.component import Context
from ronda.metrics import Metrics
from ronda.schema import Alert, Event, RuleRef, Severity

T0 = 1_700_000_000.0


def make_alert(count: int = 1, severity: Severity = Severity.HIGH) -> Alert:
    return Alert(
        rule=RuleRef(id="ronda-http-404-storm", name="HTTP 404 storm", ruleset="t",
                     category="scanner"),
        severity=severity,
        message="HTTP 404 storm from 198.51.100.7 — judi online",
        first_seen=T0,
        last_seen=T0 + count,
        key="198.51.100.7",
        count=count,
        fields={"source.ip": "198.51.100.7"},
        evidence=('198.51.100.7 - - "GET /wp-login.php HTTP/1.1" 404 0',),
        sensor="gw-01",
    )


def make_responder(tmp_path: Path, **settings: Any) -> tuple[JsonlResponder, Context]:
    ctx = Context("gw-01", ManualClock(T0), Metrics(), tmp_path / "state",
                  logging.getLogger("test.jsonl"), tmp_path)
    config = JsonlConfig.model_validate({"type": "jsonl", **settings})
    return JsonlResponder("out", config, ctx), ctx


def read_lines(path: Path) -> list[dict[str, Any]]:
    text = path.read_text(encoding="utf-8")
    assert text.endswith("\n")
    return [json.loads(line) for line in text.splitlines()]


def test_writes_one_compact_document_per_line(tmp_path: Path) -> None:
    out, ctx = make_responder(tmp_path, path="out/alerts.jsonl", fsync=True)
    assert out.wants_events is False
    out.handle([make_alert()])
    out.handle([make_alert(count=4)])  # an update: the whole document again, same id
    out.flush()
    out.close()
    path = tmp_path / "out" / "alerts.jsonl"
    raw = path.read_text(encoding="utf-8").splitlines()
    assert all(": " not in line and ", " not in line.split('"message"')[0] for line in raw)
    docs = read_lines(path)
    assert [d["ronda"]["count"] for d in docs] == [1, 4]
    assert docs[0]["event"]["id"] == docs[1]["event"]["id"] == make_alert().id
    assert docs[0] == json.loads(json.dumps(make_alert().to_ecs()))
    assert docs[0]["message"].endswith("— judi online")
    assert ctx.metrics.value("ronda_emitted_total", component="out") == 2
    assert ctx.metrics.value("ronda_received_total", component="out") == 2


def test_appends_across_restarts(tmp_path: Path) -> None:
    for _ in range(2):
        out, _ = make_responder(tmp_path, path="a.jsonl")
        out.handle([make_alert()])
        out.close()
    assert len(read_lines(tmp_path / "a.jsonl")) == 2


def test_events_mode(tmp_path: Path) -> None:
    out, _ = make_responder(tmp_path, path="all.jsonl", events=True)
    assert out.wants_events is True
    event = Event("nginx.access", T0, {"source.ip": "198.51.100.7", "url.path": "/x",
                                       "http.response.status_code": 404}, "raw line", "web")
    out.handle_events([event])
    out.handle([make_alert()])
    out.close()
    docs = read_lines(tmp_path / "all.jsonl")
    assert docs[0]["event"] == {"dataset": "nginx.access", "kind": "event"}
    assert docs[0]["observer"] == {"name": "gw-01"}
    assert docs[0]["http"]["response"]["status_code"] == 404
    assert docs[0]["message"] == "raw line"
    assert docs[1]["event"]["kind"] == "alert"


def test_events_are_ignored_unless_configured(tmp_path: Path) -> None:
    out, _ = make_responder(tmp_path, path="a.jsonl")
    out.handle_events([Event("x", T0)])
    out.handle([make_alert()])
    out.close()
    assert len(read_lines(tmp_path / "a.jsonl")) == 1


def test_standard_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out, _ = make_responder(tmp_path)
    assert out.path is None
    out.handle([make_alert(), make_alert(severity=Severity.LOW)])
    out.flush()
    out.close()
    lines = capsys.readouterr().out.splitlines()
    assert [json.loads(line)["ronda"]["severity"] for line in lines] == ["high", "low"]
    assert all(line.isascii() for line in lines)


def test_min_severity(tmp_path: Path) -> None:
    out, _ = make_responder(tmp_path, path="a.jsonl", min_severity="critical")
    out.handle([make_alert(), make_alert(severity=Severity.CRITICAL)])
    out.close()
    assert [d["ronda"]["severity"] for d in read_lines(tmp_path / "a.jsonl")] == ["critical"]
