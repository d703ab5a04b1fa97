"""Threat-intel lists: parsing, CIDR v4/v6, domain suffixes, reload, suppression."""

from __future__ import annotations

from pathlib import Path

import pytest

from detectors.net.intel import IntelConfig, IntelDetector
from detectors.net.intel_lists import IntelIndex
from ronda.errors import RuleError
from ronda.schema import Event, Severity

from .helpers import T0, dns, flow, make_ctx

LIST = """\
# feodo tracker style
203.0.113.66
198.51.100.0/24   # a whole range
2001:db8:bad::/48
2001:db8::1
evil.example
*.wild.test
not an indicator
999.1.1.1
10.0.0.0/33
http://x.test/path
0.0.0.0/0
localhost
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def detector(tmp_path: Path, lists: list[object], **kw: object) -> IntelDetector:
    cfg = IntelConfig.model_validate({"type": "intel", "lists": lists, **kw})
    det = IntelDetector("intel", cfg, make_ctx(tmp_path))
    det.reload()
    return det


def test_parse_reports_each_bad_line_with_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, "feodo.txt", LIST)
    det = detector(tmp_path, ["feodo.txt"])
    assert det.indicator_count == 6
    assert [p.split(": ", 1)[0] for p in det.problems] == [
        f"{path}:{n}" for n in (8, 9, 10, 11, 12, 13)]
    assert "one indicator per line" in det.problems[0]
    assert "every address" in det.problems[4]
    assert det.ctx.metrics.value("ronda_dropped_total", component="intel",
                                 reason="bad_indicator") == 6
    ref, severity = det.rule_info()[0]
    assert ref.id == "intel:feodo" and ref.category == "intel-match"
    assert severity is Severity.HIGH


def test_ip_matches_v4_v6_exact_and_cidr(tmp_path: Path) -> None:
    write(tmp_path, "feodo.txt", LIST)
    det = detector(tmp_path, [{"path": "feodo.txt", "name": "c2", "severity": "critical"}])
    events = [
        flow(T0, "10.0.0.5", "203.0.113.66", 443),
        flow(T0 + 1, "198.51.100.200", "10.0.0.9", 22),
        flow(T0 + 2, "2001:db8:bad:1::5", "2001:db8:1::1", 80),
        flow(T0 + 3, "10.0.0.5", "2001:db8::1", 80),
        flow(T0 + 4, "10.0.0.5", "203.0.113.67", 443),
        flow(T0 + 5, "2001:db8::2", "10.0.0.5", 443),
    ]
    alerts = det.process(events)
    got = [(a.fields["ronda.intel.field"], a.fields["ronda.intel.indicator"]) for a in alerts]
    assert got == [("destination.ip", "203.0.113.66"), ("source.ip", "198.51.100.0/24"),
                   ("source.ip", "2001:db8:bad::/48"), ("destination.ip", "2001:db8::1")]
    a = alerts[0]
    assert a.rule.id == "intel:c2" and a.severity is Severity.CRITICAL
    assert a.fields["ronda.intel.list"] == "c2" and "10.0.0.5 -> 203.0.113.66" in a.message
    assert a.evidence and "203.0.113.66" in a.evidence[0]


def test_domain_suffix_matches_in_dns_tls_http(tmp_path: Path) -> None:
    write(tmp_path, "feodo.txt", LIST)
    det = detector(tmp_path, ["feodo.txt"])
    tls = Event("tls", T0, {"source.ip": "10.0.0.5", "destination.ip": "192.0.2.1",
                            "tls.client.server_name": "API.Evil.Example"}, "", "lan")
    http = Event("http", T0, {"source.ip": "10.0.0.6", "url.domain": "x.y.wild.test"}, "", "")
    alerts = det.process([dns(T0, "10.0.0.5", "a.b.evil.example."), tls, http,
                          dns(T0, "10.0.0.5", "notevil.example"),
                          dns(T0, "10.0.0.5", "evil.example.org")])
    assert [a.fields["ronda.intel.indicator"] for a in alerts] == [
        "evil.example", "evil.example", "wild.test"]
    assert alerts[2].fields["url.domain"] == "x.y.wild.test"


def test_resolved_ip_list_and_log_events(tmp_path: Path) -> None:
    write(tmp_path, "ips.txt", "203.0.113.66\n")
    det = detector(tmp_path, ["ips.txt"])
    answer = dns(T0, "10.0.0.5", "innocent.example")
    answer.fields["dns.resolved_ip"] = ["192.0.2.1", "203.0.113.66"]
    log = Event("nginx.access", T0, {"source.ip": "203.0.113.66"}, "GET / HTTP/1.1", "web")
    alerts = det.process([answer, log])
    assert [a.fields["ronda.intel.field"] for a in alerts] == ["dns.resolved_ip", "source.ip"]


def test_repeats_update_one_alert_until_quiet(tmp_path: Path) -> None:
    write(tmp_path, "ips.txt", "203.0.113.66\n")
    det = detector(tmp_path, ["ips.txt"], suppress="10m")
    events = [flow(T0 + i, "10.0.0.5", "203.0.113.66", 443) for i in range(10)]
    alerts = det.process(events)
    assert [a.count for a in alerts] == [1, 1, 2, 4] and len({a.id for a in alerts}) == 1
    later = det.process([flow(T0 + 2000, "10.0.0.5", "203.0.113.66", 443)])
    assert later[0].count == 1 and later[0].id != alerts[0].id


def test_reload_picks_up_changes_and_keeps_lists_when_a_file_is_missing(
        tmp_path: Path) -> None:
    path = write(tmp_path, "ips.txt", "203.0.113.66\n")
    det = detector(tmp_path, ["ips.txt"])
    path.write_text("203.0.113.66\n203.0.113.77\n")
    det.reload()
    assert det.indicator_count == 2
    path.unlink()
    with pytest.raises(RuleError) as err:
        det.reload()
    assert "ips.txt" in str(err.value)
    assert det.indicator_count == 2
    assert det.process([flow(T0, "10.0.0.5", "203.0.113.77", 443)])


def test_index_first_list_wins_and_most_specific_cidr() -> None:
    index = IntelIndex()
    index.load(0, Path("a.txt"), "10.0.0.0/8\n10.1.0.0/16\n")
    index.load(1, Path("b.txt"), "10.1.0.0/16\n")
    hit = index.match_ip("10.1.2.3")
    assert hit is not None and hit.text == "10.1.0.0/16" and hit.list_index == 0
    assert index.match_ip("10.200.0.1") is not None
    assert index.match_ip("11.0.0.1") is None
    assert index.match_ip("garbage") is None
    assert index.per_list == [2, 1]


def test_large_cidr_list_lookups_are_cheap(tmp_path: Path) -> None:
    lines = [f"{a}.{b}.0.0/16" for a in range(1, 101) for b in range(0, 256, 2)]
    lines += [f"100.64.{a}.{b}" for a in range(256) for b in range(0, 256, 8)]
    write(tmp_path, "big.txt", "\n".join(lines))
    det = detector(tmp_path, ["big.txt"])
    assert det.indicator_count == len(lines)
    hits = det.process([flow(T0 + i, f"5.{i % 256}.1.1", "100.64.3.8", 80)
                        for i in range(2000)])
    assert hits  # matched; a lookup is two dict probes per address, not a scan of the list
