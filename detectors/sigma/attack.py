"""MITRE ATT&CK names for exports, without the network.

pySigma's Elasticsearch backends name the tactics and techniques of a rule's ``attack.*``
tags from MITRE's STIX data, which pySigma downloads from GitHub on first use. Diskominfo
sensors are often offline, so ``ronda rules export`` feeds pySigma one of:

* the full ``enterprise-attack.json`` the user downloaded (``--attack-data FILE``), or
* a built-in subset: the 14 enterprise tactics and the techniques Ronda's rules and
  detectors use (a technique outside it is exported without its ``threat`` entry).

Either way the data goes through a private cache folder, so the user's own pySigma
cache is never replaced by the subset.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sigma.data import mitre_attack

TACTICS: dict[str, str] = {
    "TA0043": "reconnaissance",
    "TA0042": "resource-development",
    "TA0001": "initial-access",
    "TA0002": "execution",
    "TA0003": "persistence",
    "TA0004": "privilege-escalation",
    "TA0005": "defense-evasion",
    "TA0006": "credential-access",
    "TA0007": "discovery",
    "TA0008": "lateral-movement",
    "TA0009": "collection",
    "TA0011": "command-and-control",
    "TA0010": "exfiltration",
    "TA0040": "impact",
}

TECHNIQUES: dict[str, str] = {
    "T1005": "Data from Local System",
    "T1021": "Remote Services",
    "T1021.004": "SSH",
    "T1046": "Network Service Discovery",
    "T1048": "Exfiltration Over Alternative Protocol",
    "T1059": "Command and Scripting Interpreter",
    "T1059.004": "Unix Shell",
    "T1059.006": "Python",
    "T1059.007": "JavaScript",
    "T1068": "Exploitation for Privilege Escalation",
    "T1071": "Application Layer Protocol",
    "T1071.001": "Web Protocols",
    "T1071.004": "DNS",
    "T1078": "Valid Accounts",
    "T1078.003": "Local Accounts",
    "T1083": "File and Directory Discovery",
    "T1105": "Ingress Tool Transfer",
    "T1110": "Brute Force",
    "T1110.001": "Password Guessing",
    "T1110.003": "Password Spraying",
    "T1110.004": "Credential Stuffing",
    "T1133": "External Remote Services",
    "T1136": "Create Account",
    "T1136.001": "Local Account",
    "T1189": "Drive-by Compromise",
    "T1190": "Exploit Public-Facing Application",
    "T1486": "Data Encrypted for Impact",
    "T1491": "Defacement",
    "T1491.001": "Internal Defacement",
    "T1491.002": "External Defacement",
    "T1498": "Network Denial of Service",
    "T1498.001": "Direct Network Flood",
    "T1499": "Endpoint Denial of Service",
    "T1499.002": "Service Exhaustion Flood",
    "T1505": "Server Software Component",
    "T1505.003": "Web Shell",
    "T1548.003": "Sudo and Sudo Caching",
    "T1552": "Unsecured Credentials",
    "T1552.001": "Credentials In Files",
    "T1565.001": "Stored Data Manipulation",
    "T1568": "Dynamic Resolution",
    "T1568.002": "Domain Generation Algorithms",
    "T1572": "Protocol Tunneling",
    "T1589": "Gather Victim Identity Information",
    "T1589.003": "Employee Names",
    "T1592": "Gather Victim Host Information",
    "T1592.002": "Software",
    "T1595": "Active Scanning",
    "T1595.001": "Scanning IP Blocks",
    "T1595.002": "Vulnerability Scanning",
    "T1595.003": "Wordlist Scanning",
    "T1608": "Stage Capabilities",
    "T1608.006": "SEO Poisoning",
}


def stix_subset() -> dict[str, Any]:
    """The subset as a STIX bundle in the shape pySigma reads."""
    objects: list[dict[str, Any]] = [
        {"type": "x-mitre-collection", "x_mitre_version": "ronda-subset"}
    ]
    for tid, short in TACTICS.items():
        objects.append({
            "type": "x-mitre-tactic", "x_mitre_shortname": short,
            "external_references": [{"source_name": "mitre-attack", "external_id": tid}],
        })
    for tid, name in TECHNIQUES.items():
        objects.append({
            "type": "attack-pattern", "name": name,
            "external_references": [{"source_name": "mitre-attack", "external_id": tid}],
        })
    return {"type": "bundle", "objects": objects}


@contextmanager
def attack_data(path: Path | None = None) -> Iterator[None]:
    """Within the block, pySigma reads ATT&CK names from ``path`` (or the subset)."""
    with tempfile.TemporaryDirectory(prefix="ronda-attack-") as tmp:
        source = path
        if source is None:
            source = Path(tmp) / "attack-subset.json"
            source.write_text(json.dumps(stix_subset()), encoding="utf-8")
        saved = (mitre_attack._custom_url, mitre_attack._custom_cache_dir)
        mitre_attack.set_cache_dir(str(Path(tmp) / "cache"))
        mitre_attack.set_url(str(source))
        try:
            yield
        finally:
            # Close the private cache and put pySigma's own settings back.
            mitre_attack.set_cache_dir(str(Path(tmp) / "cache"))
            mitre_attack._custom_url, mitre_attack._custom_cache_dir = saved
