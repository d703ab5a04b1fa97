"""End to end: a capture with an HTTP request and a DNS query through ``ronda replay``
with the ``netrules`` detector."""

from __future__ import annotations

import json
import socket
import struct
import subprocess
import sys
from pathlib import Path

from sensor.net.pcapwrite import ACK, PSH, SYN, PcapWriter, ether, ipv4, tcp, udp

ROOT = Path(__file__).resolve().parents[3]
ATTACKER, WEB, PC, RESOLVER = "198.51.100.7", "10.0.0.80", "10.0.0.5", "10.0.0.53"
T0 = 1_767_225_600.0
RULES = """\
alert http $EXTERNAL_NET any -> $HOME_NET any (msg:"ET WEB_SERVER /etc/passwd Detected in URI"; \
flow:established,to_server; http.uri; content:"/etc/passwd"; nocase; \
classtype:web-application-attack; sid:2009151; rev:8;)
alert dns $HOME_NET any -> any any (msg:"RONDA DNS evil domain"; dns.query; content:"evil"; \
classtype:bad-unknown; sid:9100020; rev:1;)
alert http any any -> any any (msg:"never"; http.uri; content:"/nothing-here"; sid:9100021;)
alert http any any -> any any (msg:"skipped"; urilen:>100; sid:9100022;)
"""


def _ip(text: str) -> bytes:
    return socket.inet_aton(text)


def _dns_query(name: str, ident: int) -> bytes:
    q = b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\x00"
    return struct.pack("!HHHHHH", ident, 0x0100, 1, 0, 0, 0) + q + struct.pack("!HH", 1, 1)


def write_capture(path: Path) -> None:
    a, w = _ip(ATTACKER), _ip(WEB)
    req = (b"GET /cgi-bin/../../etc/passwd HTTP/1.1\r\nHost: www.example.go.id\r\n"
           b"User-Agent: curl/8.0\r\n\r\n")
    resp = b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"
    with path.open("wb") as fh:
        pw = PcapWriter(fh)
        t = T0
        pw.write(t, ether(ipv4(a, w, 6, tcp(41000, 80, SYN, seq=100))))
        pw.write(t + 0.001, ether(ipv4(w, a, 6, tcp(80, 41000, SYN | ACK, seq=500, ack=101))))
        pw.write(t + 0.002, ether(ipv4(a, w, 6, tcp(41000, 80, ACK, seq=101, ack=501))))
        pw.write(t + 0.003, ether(ipv4(a, w, 6, tcp(41000, 80, PSH | ACK, req, seq=101,
                                                    ack=501))))
        pw.write(t + 0.004, ether(ipv4(w, a, 6, tcp(80, 41000, PSH | ACK, resp, seq=501,
                                                    ack=101 + len(req)))))
        pc, res = _ip(PC), _ip(RESOLVER)
        pw.write(t + 0.01, ether(ipv4(pc, res, 17, udp(53000, 53,
                                                       _dns_query("www.evil.example", 7)))))
        pw.write(t + 0.02, ether(ipv4(pc, res, 17, udp(53001, 53,
                                                       _dns_query("www.good.example", 8)))))


def _replay(tmp: Path, pcap: Path, rules: Path,
            extra: str = "") -> subprocess.CompletedProcess[str]:
    """``ronda replay --output jsonl`` of ``pcap`` with a netrules detector on ``rules``."""
    cfg = tmp / "ronda.yaml"
    cfg.write_text(f"sensor: {{name: t}}\nstate_dir: {tmp}\n{extra}"
                   f"detectors:\n  netrules: {{type: netrules, rules: [{rules}]}}\n")
    r = subprocess.run([sys.executable, "-m", "ronda.daemon.cli", "replay", "-c", str(cfg),
                        "--no-store", "--output", "jsonl", f"pcap:{pcap}"],
                       capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert r.returncode == 0, r.stderr
    return r


def test_replay_raises_netrules_alerts(tmp_path: Path) -> None:
    pcap = tmp_path / "attack.pcap"
    write_capture(pcap)
    rules = tmp_path / "emerging-test.rules"
    rules.write_text(RULES)
    r = _replay(tmp_path, pcap, rules)
    docs = [json.loads(line) for line in r.stdout.splitlines() if line.strip()]
    by_id = {d["rule"]["id"]: d for d in docs}
    assert set(by_id) == {"sid:2009151", "sid:9100020"}, r.stdout
    web = by_id["sid:2009151"]
    assert web["source"]["ip"] == ATTACKER and web["destination"]["ip"] == WEB
    assert web["rule"]["ruleset"] == "emerging-test" and web["ronda"]["netrules"]["sid"] == 2009151
    assert web["rule"]["category"] == "path-traversal"
    assert any("/etc/passwd" in e for e in web["ronda"]["evidence"])
    dns = by_id["sid:9100020"]
    assert dns["source"]["ip"] == PC and dns["dns"]["question"]["name"] == "www.evil.example"


def test_payload_rules_on_sampled_flows(tmp_path: Path) -> None:
    pcap = tmp_path / "attack.pcap"
    write_capture(pcap)
    rules = tmp_path / "payload.rules"
    rules.write_text(
        'alert tcp $EXTERNAL_NET any -> $HOME_NET 80 (msg:"passwd in stream"; '
        'flow:established,to_server; content:"GET "; depth:4; content:"/etc/passwd"; '
        'distance:0; classtype:web-application-attack; sid:9100030;)\n'
        'alert tcp $HOME_NET 80 -> $EXTERNAL_NET any (msg:"404 back"; flow:to_client; '
        'content:"404 Not Found"; classtype:misc-activity; sid:9100031;)\n'
        'alert tcp any any -> any any (msg:"to_server only"; flow:to_server; '
        'content:"404 Not Found"; sid:9100032;)\n')
    r = _replay(tmp_path, pcap, rules)
    docs = [json.loads(line) for line in r.stdout.splitlines() if line.strip()]
    by_id = {d["rule"]["id"]: d for d in docs}
    assert set(by_id) == {"sid:9100030", "sid:9100031"}, r.stdout
    assert by_id["sid:9100030"]["ronda"]["netrules"]["buffer"] == "payload to_server"
    assert by_id["sid:9100031"]["ronda"]["netrules"]["buffer"] == "payload to_client"
    assert by_id["sid:9100031"]["source"]["ip"] == ATTACKER  # the alert keys on the flow


def test_replay_reads_captures_with_the_configured_packet_settings(tmp_path: Path) -> None:
    """The config's capture source decides the protocols (here: DNS only, so the HTTP
    rule has no http event to match) and the payload samples of a replayed capture."""
    pcap = tmp_path / "attack.pcap"
    write_capture(pcap)
    rules = tmp_path / "emerging-test.rules"
    rules.write_text(RULES)
    r = _replay(tmp_path, pcap, rules,
                "sources:\n  lan: {type: capture, interface: eth9, protocols: [dns]}\n")
    ids = {json.loads(line)["rule"]["id"] for line in r.stdout.splitlines() if line.strip()}
    assert ids == {"sid:9100020"}, r.stdout
