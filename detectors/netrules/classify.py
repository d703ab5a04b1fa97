"""Suricata classtypes -> Ronda severity and category."""

from __future__ import annotations

from detectors.netrules.rule import Rule
from ronda.schema import Severity

# priority of Suricata's classification.config (ET Open's)
PRIORITY: dict[str, int] = {
    "not-suspicious": 3, "unknown": 3, "bad-unknown": 2, "attempted-recon": 2,
    "successful-recon-limited": 2, "successful-recon-largescale": 2, "attempted-dos": 2,
    "successful-dos": 2, "attempted-user": 1, "unsuccessful-user": 1, "successful-user": 1,
    "attempted-admin": 1, "successful-admin": 1, "rpc-portmap-decode": 2,
    "shellcode-detect": 1, "string-detect": 3, "suspicious-filename-detect": 2,
    "suspicious-login": 2, "system-call-detect": 2, "tcp-connection": 4,
    "trojan-activity": 1, "unusual-client-port-connection": 2, "network-scan": 3,
    "denial-of-service": 2, "non-standard-protocol": 2, "protocol-command-decode": 3,
    "web-application-activity": 2, "web-application-attack": 1, "misc-activity": 3,
    "misc-attack": 2, "icmp-event": 3, "inappropriate-content": 1, "policy-violation": 1,
    "default-login-attempt": 2, "targeted-activity": 1, "exploit-kit": 1,
    "external-ip-check": 2, "domain-c2": 1, "pup-activity": 2, "credential-theft": 1,
    "social-engineering": 2, "coin-mining": 2, "command-and-control": 1,
}

CATEGORY: dict[str, str] = {
    "attempted-recon": "port-scan", "network-scan": "port-scan",
    "web-application-attack": "rce", "trojan-activity": "c2", "command-and-control": "c2",
    "domain-c2": "c2", "exploit-kit": "c2", "attempted-dos": "dos",
    "denial-of-service": "dos", "successful-dos": "dos", "policy-violation": "policy",
    "bad-unknown": "intel-match", "credential-theft": "intel-match",
    "social-engineering": "intel-match", "default-login-attempt": "brute-force",
    "suspicious-login": "brute-force",
}

# words in msg that say more than the classtype (checked in order, lower-case)
HINTS: tuple[tuple[str, str], ...] = (
    ("sql injection", "sqli"), ("sqli", "sqli"), ("cross site scripting", "xss"),
    ("xss", "xss"), ("directory traversal", "path-traversal"),
    ("path traversal", "path-traversal"), ("/etc/passwd", "path-traversal"),
    ("webshell", "webshell"), ("web shell", "webshell"), ("php injection", "php-injection"),
    ("brute force", "brute-force"), ("dns tunnel", "dns-tunnel"), ("ransomware", "ransomware"),
    ("scan", "scanner"),
)


def severity(rule: Rule) -> Severity:
    prio = rule.priority if rule.priority is not None else PRIORITY.get(rule.classtype, 3)
    if prio <= 1:
        crit = [v.lower() for v in rule.metadata.get("signature_severity", [])]
        return Severity.CRITICAL if "critical" in crit else Severity.HIGH
    return Severity.MEDIUM if prio == 2 else Severity.LOW


def category(rule: Rule) -> str:
    base = CATEGORY.get(rule.classtype, "policy")
    if base in ("rce", "port-scan", "policy", "intel-match"):
        msg = rule.msg.lower()
        for word, cat in HINTS:
            if word in msg:
                if cat == "scanner" and base == "port-scan":
                    return base
                return cat
    return base
