"""Helpers for the Sigma engine tests: rules from text, events by hand, parsers."""

from __future__ import annotations

import logging
import textwrap
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from detectors.sigma.compile import Compiled, compile_rules
from detectors.sigma.correlation import CorrelationSet
from detectors.sigma.ruleset import Ruleset
from ronda.clock import ManualClock
from ronda.component import Context
from ronda.metrics import Metrics
from ronda.schema import Event
from sensor.parsers import make_parser

T0 = 1_800_000_000.0
REPO = Path(__file__).resolve().parents[3]
DATA = Path(__file__).resolve().parent / "data"


def rule_text(detection: str, *, rid: str | None = None, title: str = "Test rule",
              logsource: str = "category: webserver", extra: str = "") -> str:
    """A rule document; ``detection`` is the YAML under ``detection:``."""
    body = textwrap.indent(textwrap.dedent(detection).strip(), "  ")
    source = textwrap.indent(textwrap.dedent(logsource).strip(), "  ")
    return (
        f"title: {title}\nid: {rid or uuid.uuid4()}\n"
        f"logsource:\n{source}\ndetection:\n{body}\n{textwrap.dedent(extra).strip()}\n"
    )


def write(tmp: Path, name: str, text: str) -> Path:
    path = tmp / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def compile_text(tmp: Path, *docs: str, placeholders: dict[str, list[str | int]] | None = None
                 ) -> Compiled:
    path = tmp / f"rules-{uuid.uuid4().hex[:8]}.yml"
    path.write_text("\n---\n".join(docs), encoding="utf-8")
    return compile_rules([path], placeholders, CorrelationSet.check)


def matcher(tmp: Path, detection: str, logsource: str = "category: webserver",
            placeholders: dict[str, list[str | int]] | None = None,
            ) -> Callable[[Event], bool]:
    """A function telling whether the one rule with ``detection`` matches an event (and
    checking that prefiltered and brute-force evaluation agree)."""
    compiled = compile_text(tmp, rule_text(detection, logsource=logsource),
                            placeholders=placeholders)
    assert not compiled.skipped, [p.text() for p in compiled.skipped]
    ruleset = Ruleset(compiled.rules)

    def check(event: Event) -> bool:
        fast = bool(ruleset.match(event))
        slow = bool(ruleset.match_all(event))
        assert fast == slow, (event, fast, slow)
        return fast

    return check


def skip_reason(tmp: Path, detection: str, logsource: str = "category: webserver") -> str:
    compiled = compile_text(tmp, rule_text(detection, logsource=logsource))
    assert len(compiled.skipped) == 1, [p.text() for p in compiled.skipped]
    return compiled.skipped[0].reason


def web(url: str = "/", *, method: str = "GET", status: int = 200, ua: str = "curl/8",
        ip: str = "203.0.113.7", message: str | None = None, **extra: Any) -> Event:
    """An nginx access event with the fields the parser gives."""
    path, _, query = url.partition("?")
    fields: dict[str, Any] = {
        "source.ip": ip, "http.request.method": method, "url.original": url,
        "url.path": path, "http.response.status_code": status,
        "user_agent.original": ua, "event.category": ["web"], "event.outcome": "success",
    }
    if query:
        fields["url.query"] = query
    fields.update({k.replace("__", "."): v for k, v in extra.items()})
    line = message if message is not None else (
        f'{ip} - - [20/Nov/2026:09:00:00 +0700] "{method} {url} HTTP/1.1" {status} 5 "-" "{ua}"'
    )
    return Event(dataset="nginx.access", timestamp=T0, fields=fields, message=line)


def event(dataset: str = "nginx.access", message: str = "", **fields: Any) -> Event:
    """``source__ip=...`` becomes the field ``source.ip``."""
    return Event(dataset=dataset, timestamp=T0,
                 fields={k.replace("__", "."): v for k, v in fields.items()}, message=message)


def parsers(fmt: str) -> Callable[[str], Event | None]:
    return make_parser(fmt, ManualClock(T0))


def make_ctx(tmp: Path) -> Context:
    return Context(sensor="gw-01", clock=ManualClock(T0), metrics=Metrics(),
                   state_dir=tmp / "state", log=logging.getLogger("test.sigma"), base_dir=tmp)
