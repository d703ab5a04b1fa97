"""Suricata EVE JSON: records to events, alerts to Ronda alerts, ``ronda replay eve:``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from detectors.netrules.eve_alerts import SuricataConfig, SuricataDetector
from ronda.schema import Event
from sensor.eve import EveParser, looks_like_eve
from tests.detectors.net.helpers import make_ctx

ROOT = Path(__file__).resolve().parents[2]
TS = "2026-11-20T02:31:00.123456+0000"
BASE = {"timestamp": TS, "flow_id": 1234, "in_iface": "eth0", "src_ip": "203.0.113.9",
        "src_port": 40000, "dest_ip": "10.0.0.80", "dest_port": 80, "proto": "TCP",
        "community_id": "1:abc="}

ALERT = {**BASE, "event_type": "alert", "app_proto": "http",
         "alert": {"action": "allowed", "gid": 1, "signature_id": 2009151, "rev": 8,
                   "signature": "ET WEB_SERVER /etc/passwd Detected in URI",
                   "category": "Attempted Information Leak", "severity": 2,
                   "metadata": {"signature_severity": ["Major"]}},
         "http": {"hostname": "www.example.go.id", "url": "/../etc/passwd?x=1",
                  "http_user_agent": "curl/8.0", "http_method": "GET",
                  "protocol": "HTTP/1.1", "status": 404, "length": 153}}
FLOW = {**BASE, "event_type": "flow", "app_proto": "http",
        "flow": {"pkts_toserver": 5, "pkts_toclient": 4, "bytes_toserver": 500,
                 "bytes_toclient": 900, "start": "2026-11-20T02:30:59.000000+0000",
                 "end": "2026-11-20T02:31:00.500000+0000", "state": "closed",
                 "reason": "timeout"}}
DNS = {**BASE, "event_type": "dns", "proto": "UDP", "dest_port": 53, "src_port": 5353,
       "dns": {"version": 2, "type": "answer", "id": 7, "rrname": "evil.duckdns.org",
               "rrtype": "A", "rcode": "NOERROR",
               "answers": [{"rrname": "evil.duckdns.org", "rrtype": "A", "ttl": 60,
                            "rdata": "198.51.100.5"}]}}
DNS3 = {**BASE, "event_type": "dns", "proto": "UDP",
        "dns": {"version": 3, "type": "request", "id": 8,
                "queries": [{"rrname": "c2.example.top", "rrtype": "TXT"}]}}
HTTP = {**BASE, "event_type": "http", "http": ALERT["http"]}
TLS = {**BASE, "event_type": "tls", "dest_port": 443,
       "tls": {"sni": "pastebin.com", "version": "TLS 1.2", "ja3": {"hash": "abc"},
               "fingerprint": "aa:bb:cc"}}
SSH = {**BASE, "event_type": "ssh", "dest_port": 22,
       "ssh": {"client": {"proto_version": "2.0", "software_version": "libssh2_1.9.0"},
               "server": {"proto_version": "2.0", "software_version": "OpenSSH_8.9p1"}}}
LINES = [json.dumps(r) for r in (ALERT, FLOW, DNS, DNS3, HTTP, TLS, SSH)] + [
    "not json at all", '{"truncated": ', "[1, 2]", json.dumps({"event_type": "dns"}),
    json.dumps({**BASE, "event_type": "stats"})]


def _events() -> list[Event | None]:
    parse = EveParser()
    return [parse(line) for line in LINES]


def test_records_map_to_ronda_datasets_and_ecs_fields() -> None:
    evs = _events()
    alert, flow, dns, dns3, http, tls, ssh = evs[:7]
    assert alert is not None and alert.dataset == "suricata.alert"
    assert alert.fields["rule.id"] == "2009151" and alert.fields["url.original"].startswith("/..")
    assert abs(alert.timestamp - 1_795_141_860.123456) < 1e-6
    assert flow is not None and flow.dataset == "network.flow"
    assert flow.fields["network.bytes"] == 1400 and flow.fields["event.duration"] == 1_500_000_000
    assert flow.fields["network.transport"] == "tcp" and flow.fields["network.protocol"] == "http"
    assert dns is not None and dns.dataset == "dns"
    assert dns.fields["dns.question.name"] == "evil.duckdns.org"
    assert dns.fields["dns.resolved_ip"] == ["198.51.100.5"] and dns.fields["dns.type"] == "answer"
    assert dns3 is not None and dns3.fields["dns.question.name"] == "c2.example.top"
    assert http is not None and http.dataset == "http"
    assert http.fields["http.response.status_code"] == 404 and http.fields["http.version"] == "1.1"
    assert http.fields["url.path"] == "/../etc/passwd" and http.fields["url.query"] == "x=1"
    assert tls is not None and tls.fields["tls.client.server_name"] == "pastebin.com"
    assert tls.fields["tls.version"] == "1.2" and tls.fields["tls.server.hash.sha1"] == "AABBCC"
    assert ssh is not None and ssh.fields["ronda.ssh.client_software"] == "libssh2_1.9.0"
    assert evs[7:11] == [None, None, None, None]
    stats = evs[11]
    assert stats is not None and stats.dataset == "suricata.stats"


def test_looks_like_eve() -> None:
    assert looks_like_eve(LINES[:5])
    assert not looks_like_eve(['1.2.3.4 - - [20/Nov/2026:02:31:00 +0000] "GET / HTTP/1.1"'])


def test_suricata_detector_makes_alerts() -> None:
    evs = [e for e in _events() if e is not None]
    det = SuricataDetector("suricata", SuricataConfig(type="suricata"), make_ctx())
    assert det.reload() == 1
    alerts = det.process(evs)
    assert len(alerts) == 1
    a = alerts[0]
    assert a.rule.id == "sid:2009151" and a.rule.ruleset == "suricata"
    assert a.rule.category == "path-traversal" and a.severity.value == "medium"
    assert a.key == "203.0.113.9" and a.fields["ronda.suricata.rev"] == 8
    assert a.fields["url.original"] == "/../etc/passwd?x=1"
    a.to_ecs()
    strict = SuricataDetector("s", SuricataConfig(type="suricata", min_severity=1), make_ctx())
    assert strict.process(evs) == []


def test_replay_eve_file(tmp_path: Path) -> None:
    eve = tmp_path / "eve.json"
    eve.write_text("\n".join(LINES) + "\n")
    cfg = tmp_path / "ronda.yaml"
    rules = tmp_path / "local.rules"
    rules.write_text('alert dns any any -> any any (msg:"duckdns"; dns.query; '
                     'content:"duckdns"; classtype:bad-unknown; sid:9100008; rev:1;)\n')
    cfg.write_text(f"sensor: {{name: t}}\nstate_dir: {tmp_path}\n"
                   "detectors:\n  suricata: {type: suricata}\n"
                   f"  netrules: {{type: netrules, rules: [{rules}]}}\n")
    for spec in (f"eve:{eve}", str(eve)):
        r = subprocess.run([sys.executable, "-m", "ronda.daemon.cli", "replay", "-c", str(cfg),
                            "--no-store", "--output", "jsonl", spec],
                           capture_output=True, text=True, cwd=ROOT, timeout=120)
        assert r.returncode == 0, r.stderr
        docs = [json.loads(line) for line in r.stdout.splitlines() if line.strip()]
        assert {d["rule"]["id"] for d in docs} == {"sid:2009151", "sid:9100008"}, r.stdout
        assert "4 skipped" in r.stderr, r.stderr
