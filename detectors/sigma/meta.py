"""A Sigma rule's metadata as Ronda sees it: RuleRef, severity, ATT&CK techniques.

- ``rule.category`` comes from a tag ``ronda.category.<category>`` (one of the schema's
  categories). Rules without it (SigmaHQ's) get one derived from their title, description
  and ATT&CK tags (:data:`CATEGORY_KEYWORDS`, :data:`TECHNIQUE_CATEGORIES`), else
  ``policy``.
- severity from ``level``: informational and low -> low; medium, high, critical; a rule
  without a level is medium.
- techniques from tags ``attack.tNNNN`` / ``attack.tNNNN.NNN`` (written ``T1190``).
"""

from __future__ import annotations

import re
from typing import Any

from ronda.schema import CATEGORIES, RuleRef, Severity

RULESET = "sigma"
"""``rule.ruleset`` of every alert from a Sigma rule."""

CATEGORY_TAG = "category."

CATEGORY_KEYWORDS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (category, re.compile(pattern, re.IGNORECASE))
    for category, pattern in (
        ("gambling-spam", r"gambl|judi|slot gacor|togel|casino"),
        ("defacement", r"defac"),
        ("webshell", r"web ?shell|regeorg|china ?chopper"),
        ("sqli", r"sql.?injection|\bsqli\b|sqlmap"),
        ("xss", r"\bxss\b|cross.?site.?scripting"),
        ("path-traversal", r"traversal|\blfi\b|local file inclusion|directory climb"),
        ("php-injection", r"php (code )?injection|php://|php payload"),
        ("rce", r"\brce\b|remote code|code execution|command injection|java payload|jndi"
                r"|log4j|log4shell|ssti|template injection|deseriali|shellshock|ognl|xxe"),
        ("sensitive-file", r"sensitive file|source code|\.git\b|\.env\b|backup file"
                           r"|config(uration)? file|/etc/passwd|disclosure"),
        ("brute-force", r"brute|password (spray|guess)|credential stuffing"
                        r"|failed (log(on|in)|password|auth)|(log(on|in)|auth\w*) fail"),
        ("scanner", r"scanner|scanning|\brecon|enumeration|fuzz|nikto|nuclei|dirbust"),
        ("port-scan", r"port ?scan"),
        ("dos", r"\bdos\b|denial of service|flood"),
        ("dns-tunnel", r"dns tunnel"),
        ("c2", r"\bc2\b|command and control|beacon|cobalt ?strike"),
        ("ransomware", r"ransom"),
    )
)
"""Patterns -> category: the title is tried first, then the description; first match wins."""

TECHNIQUE_CATEGORIES: tuple[tuple[str, str], ...] = (
    ("T1505.003", "webshell"),
    ("T1110", "brute-force"),
    ("T1595", "scanner"),
    ("T1046", "port-scan"),
    ("T1498", "dos"),
    ("T1499", "dos"),
    ("T1071.004", "dns-tunnel"),
    ("T1572", "dns-tunnel"),
    ("T1071", "c2"),
    ("T1486", "ransomware"),
    ("T1491", "defacement"),
    ("T1083", "sensitive-file"),
    ("T1059", "rce"),
    ("T1203", "rce"),
)
"""ATT&CK technique prefix -> category, when no title keyword decided."""

_LEVELS = {
    "informational": Severity.LOW,
    "low": Severity.LOW,
    "medium": Severity.MEDIUM,
    "high": Severity.HIGH,
    "critical": Severity.CRITICAL,
}

_TECHNIQUE = re.compile(r"^t(\d{4})(?:\.(\d{3}))?$", re.IGNORECASE)


class MetaError(ValueError):
    """A metadata problem that makes the rule unusable (bad ronda.category tag)."""


def tags_of(rule: Any) -> list[tuple[str, str]]:
    return [(str(t.namespace).lower(), str(t.name)) for t in (getattr(rule, "tags", None) or [])]


def severity_of(rule: Any) -> Severity:
    level = getattr(rule, "level", None)
    if level is None:
        return Severity.MEDIUM
    return _LEVELS.get(str(level).lower(), Severity.MEDIUM)


def techniques_of(rule: Any) -> tuple[str, ...]:
    out: list[str] = []
    for namespace, name in tags_of(rule):
        m = _TECHNIQUE.match(name) if namespace == "attack" else None
        if m:
            tech = f"T{m.group(1)}" + (f".{m.group(2)}" if m.group(2) else "")
            if tech not in out:
                out.append(tech)
    return tuple(out)


def category_of(rule: Any) -> str:
    for namespace, name in tags_of(rule):
        if namespace == "ronda" and name.startswith(CATEGORY_TAG):
            category = name[len(CATEGORY_TAG):]
            if category not in CATEGORIES:
                raise MetaError(
                    f"unknown category {category!r} in tag ronda.category.{category} "
                    f"(expected one of {', '.join(CATEGORIES)})"
                )
            return category
    for text in (getattr(rule, "title", None), getattr(rule, "description", None)):
        for category, pattern in CATEGORY_KEYWORDS:
            if text and pattern.search(str(text)):
                return category
    for tech in techniques_of(rule):
        for prefix, category in TECHNIQUE_CATEGORIES:
            if tech == prefix or tech.startswith(prefix + "."):
                return category
    return "policy"


def rule_ref(rule: Any) -> RuleRef:
    references = tuple(str(r) for r in (getattr(rule, "references", None) or []))
    return RuleRef(
        id=str(rule.id),
        name=str(rule.title or rule.id),
        ruleset=RULESET,
        category=category_of(rule),  # type: ignore[arg-type]
        description=str(getattr(rule, "description", None) or "").strip(),
        references=references,
    )
