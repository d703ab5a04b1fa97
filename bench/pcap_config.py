"""Ronda configurations for the packet benchmark (bench/bench_pcap.py).

``full``: the issue's configuration for ``ronda replay pcap:FILE``: the protocol parsers
(replay turns them all on), the shipped Sigma pack, every network detector with the
thresholds of config/ronda.yaml's examples, a threat-intel list, and the Suricata-subset
rules of rules/suricata (which also turn on payload samples). ``netrules``: the parsers and
the Suricata-subset rules only. ``bare``: no detectors. ``flows``: not even the parsers.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
HOME_NET = "[10.0.0.0/8,172.16.0.0/12,192.168.0.0/16]"
# indicators that the capture contains (bench/pcap_protocols.py), among others it does not
INTEL_HITS = ("185.220.101.0/24", "update-srv.duckdns.org")


def intel_list(path: Path, seed: int = 3) -> Path:
    """A blocklist of ~300 indicators: addresses, networks, domains."""
    rng = random.Random(seed)
    lines = ["# benchmark blocklist (made up)", *INTEL_HITS]
    for i in range(200):
        lines.append(f"{rng.choice((5, 23, 45, 89, 91, 141, 193))}.{rng.randrange(256)}."
                     f"{rng.randrange(256)}.{rng.randrange(1, 255)}")
        if i % 4 == 0:
            lines.append(f"{rng.choice((77, 92, 162))}.{rng.randrange(256)}."
                         f"{rng.randrange(256)}.0/24")
        if i % 2 == 0:
            lines.append(f"cdn-{rng.getrandbits(32):08x}.{rng.choice(('top', 'xyz', 'ru'))}")
    path.write_text("\n".join(lines) + "\n")
    return path


def detectors(tmp: Path) -> dict[str, Any]:
    inside = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"]
    return {
        "sigma": {"type": "sigma", "rules": [str(ROOT / "rules" / "sigma")]},
        "portscan": {"type": "portscan", "window": "5m", "vertical_threshold": 25,
                     "horizontal_threshold": 25},
        "flood": {"type": "flood", "window": "10s", "syn_threshold": 1000,
                  "source_flows_per_second": 100},
        "ssh-flows": {"type": "ssh_conn_bf", "window": "5m", "threshold": 20, "ports": [22]},
        "dns-tunnel": {"type": "dns_tunnel", "window": "5m", "unique_threshold": 100},
        "beacon": {"type": "beacon", "inside": inside},
        "intel": {"type": "intel", "lists": [str(intel_list(tmp / "blocklist.txt"))]},
        "netrules": {"type": "netrules", "rules": [str(ROOT / "rules" / "suricata")],
                     "vars": {"HOME_NET": HOME_NET, "EXTERNAL_NET": "!$HOME_NET"}},
    }


def write(tmp: Path, name: str, which: str) -> Path:
    """The config file ``tmp/name`` (JSON is YAML); state under ``tmp``. ``which``:
    ``full`` (every detector), ``netrules`` (the Suricata-subset rules only), ``bare`` (no
    detectors) or ``flows`` (no detectors, no protocol parsers: a pcap source's
    ``protocols: []``, which ``ronda replay`` applies to the captures it reads)."""
    cfg: dict[str, Any] = {"sensor": {"name": "bench"}, "state_dir": str(tmp),
                           "logging": {"level": "warning"}}
    every = detectors(tmp)
    cfg["detectors"] = {"full": every, "netrules": {"netrules": every["netrules"]}}.get(
        which, {})
    if which == "flows":
        cfg["sources"] = {"lan": {"type": "pcap", "path": str(tmp / "unused.pcap"),
                                  "protocols": []}}
    path = tmp / name
    path.write_text(json.dumps(cfg, indent=1))
    return path
