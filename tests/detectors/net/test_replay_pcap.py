"""End to end: a capture of a SYN scan and an XMAS scan through ``ronda replay``."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

from sensor.net.pcapwrite import ACK, FIN, RST, SYN, PcapWriter, ether, ipv4, tcp

ROOT = Path(__file__).resolve().parents[3]
URG = 0x20
PSH = 0x08
SCANNER, SCANNER2, TARGET, OTHER = "198.51.100.7", "198.51.100.8", "10.0.0.9", "10.0.0.10"
T0 = 1_767_225_600.0


def _ip(text: str) -> bytes:
    return socket.inet_aton(text)


def write_scans(path: Path) -> None:
    with path.open("wb") as fh:
        w = PcapWriter(fh)
        t = T0
        for port in range(1, 61):  # SYN scan: closed ports answer RST+ACK, others stay silent
            t += 0.002
            w.write(t, ether(ipv4(_ip(SCANNER), _ip(TARGET), 6, tcp(45000, port, SYN))))
            if port % 2:
                w.write(t + 0.0005, ether(ipv4(_ip(TARGET), _ip(SCANNER), 6,
                                               tcp(port, 45000, RST | ACK))))
        for port in range(1, 41):  # XMAS scan of another host, from another scanner
            t += 0.002
            w.write(t, ether(ipv4(_ip(SCANNER2), _ip(OTHER), 6,
                                  tcp(46000, port, FIN | PSH | URG))))


def test_replay_raises_port_scan_alerts(tmp_path: Path) -> None:
    pcap = tmp_path / "scan.pcap"
    write_scans(pcap)
    cfg = tmp_path / "ronda.yaml"
    cfg.write_text(
        f"sensor: {{name: t}}\nstate_dir: {tmp_path}\n"
        "detectors:\n"
        "  portscan: {type: portscan, vertical_threshold: 25, horizontal_threshold: 25}\n")
    r = subprocess.run([sys.executable, "-m", "ronda.daemon.cli", "replay", "-c", str(cfg),
                        "--no-store", "--output", "jsonl", f"pcap:{pcap}"],
                       capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert r.returncode == 0, r.stderr
    docs = [json.loads(line) for line in r.stdout.splitlines() if line.strip()]
    scans = {(d["destination"]["ip"], d["ronda"]["scan"]["type"]) for d in docs
             if d["rule"]["category"] == "port-scan"}
    assert scans == {(TARGET, "syn"), (OTHER, "xmas")}, r.stdout
    doc = docs[0]
    # two alerts of the first scanner (at 25 and 50 ports) merged by the pipeline
    assert doc["ronda"]["count"] == 50 and doc["ronda"]["scan"]["count"] == 25
    assert doc["source"]["ip"] == SCANNER and doc["threat"]["technique"]["id"] == ["T1046"]
    assert doc["ronda"]["evidence"]
