"""The shipped sample ruleset (rules/suricata): loads cleanly, each rule fires on its
sample and not on a benign one."""

from __future__ import annotations

from pathlib import Path

import pytest

from detectors.netrules.detector import load_rules
from detectors.netrules.engine import Engine
from detectors.netrules.vars import normalise_vars
from ronda.schema import Event
from tests.detectors.netrules.helpers import dns, flow, http, tls

RULES = Path(__file__).resolve().parents[3] / "rules" / "suricata"

SAMPLES: dict[int, tuple[Event, Event]] = {
    9100001: (http("/download.php?f=../../../../etc/passwd"), http("/etc/index.html")),
    9100002: (http("/a/../../b"), http("/a/../b")),
    9100003: (http("/item.php?id=1 union  all select 1,2"), http("/union/select.html")),
    9100004: (http("/?id=1", ua="sqlmap/1.7.2#stable"), http("/?id=1")),
    9100005: (http("/", ua="Mozilla/5.00 (Nikto/2.1.6)"), http("/", ua="nikto")),
    9100006: (http("/uploads/x.php?cmd=id"), http("/index.php?cmd_help=1")),
    9100007: (http("/", src="10.0.0.5", dst="198.51.100.1", host="slotgacor88.example"),
              http("/", src="10.0.0.5", dst="198.51.100.1", host="slots.example")),
    9100008: (dns("abc.duckdns.org"), dns("notduckdns.org")),
    9100009: (tls("pastebin.com"), tls("pastebin.com.example")),
    9100010: (flow(b"GET /?q=${jndi:ldap://x/a} HTTP/1.1\r\n"), flow(b"GET /?q=jndi HTTP/1.1")),
}


@pytest.fixture(scope="module")
def engine() -> Engine:
    loaded = load_rules([RULES], normalise_vars({}))
    assert not loaded.problems and not loaded.skipped
    assert {r.sid for r in loaded.rules} == set(SAMPLES)
    return Engine(loaded.rules, 100, 100)


@pytest.mark.parametrize("sid", sorted(SAMPLES))
def test_rule_fires_on_its_sample_only(engine: Engine, sid: int) -> None:
    good, benign = SAMPLES[sid]
    assert sid in {h.rule.sid for h in engine.match(good)}
    assert sid not in {h.rule.sid for h in engine.match(benign)}
