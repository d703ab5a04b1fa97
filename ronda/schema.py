"""The two records that cross stage boundaries: Event (observation) and Alert (conclusion)."""

from __future__ import annotations

import hashlib
from enum import StrEnum
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field

from ronda import __version__
from ronda.event import Event, iso_time, unflatten

__all__ = ["CATEGORIES", "ECS_VERSION", "Alert", "Category", "Event", "RuleRef", "Severity",
           "iso_time", "unflatten"]

ECS_VERSION = "8.11.0"

Category = Literal[
    "sqli",
    "xss",
    "path-traversal",
    "rce",
    "php-injection",
    "webshell",
    "scanner",
    "sensitive-file",
    "brute-force",
    "port-scan",
    "dos",
    "dns-tunnel",
    "c2",
    "defacement",
    "gambling-spam",
    "ransomware",
    "intel-match",
    "anomaly",
    "policy",
]
CATEGORIES: tuple[str, ...] = get_args(Category)


class Severity(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return _SEVERITY_RANK[self.value]

    @property
    def score(self) -> int:
        """ECS event.severity / event.risk_score, on Elastic Security's scale."""
        return _SEVERITY_SCORE[self.value]

    @classmethod
    def parse(cls, value: str) -> Severity:
        try:
            return cls(value.lower())
        except ValueError:
            names = ", ".join(s.value for s in cls)
            raise ValueError(f"unknown severity {value!r} (expected one of {names})") from None


_SEVERITY_RANK = {"low": 1, "medium": 2, "high": 3, "critical": 4}
_SEVERITY_SCORE = {"low": 21, "medium": 47, "high": 73, "critical": 99}


class RuleRef(BaseModel):
    """The rule an alert came from (ECS ``rule.*``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    name: str
    ruleset: str
    category: Category
    description: str = ""
    references: tuple[str, ...] = ()


class Alert(BaseModel):
    """What a detector concludes. Serialises to an ECS document with a deterministic id."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    rule: RuleRef
    severity: Severity
    message: str
    first_seen: float
    last_seen: float
    key: str = ""
    count: int = Field(default=1, ge=1)
    techniques: tuple[str, ...] = ()
    fields: dict[str, Any] = Field(default_factory=dict)
    evidence: tuple[str, ...] = ()
    sensor: str = ""
    detector: str = ""
    source: str = ""

    @property
    def id(self) -> str:
        """Identity: sensor, rule, grouping key and start. Retried writes reuse it."""
        ident = "\x1f".join(
            (self.sensor, self.rule.id, self.key, f"{self.first_seen:.6f}")
        )
        return hashlib.sha256(ident.encode("utf-8", "surrogatepass")).hexdigest()[:40]

    def to_ecs(self) -> dict[str, Any]:
        flat: dict[str, Any] = {k: v for k, v in self.fields.items() if not k.startswith("event.")}
        for name in ("event.category", "event.action", "event.outcome", "event.dataset"):
            if name in self.fields:
                flat["event.original_" + name.split(".", 1)[1]] = self.fields[name]
        if self.techniques:
            flat["threat.framework"] = "MITRE ATT&CK"
            flat["threat.technique.id"] = list(self.techniques)
        doc = unflatten(flat)
        first, last = iso_time(self.first_seen), iso_time(self.last_seen)
        rule: dict[str, Any] = {"id": self.rule.id, "name": self.rule.name,
                                "ruleset": self.rule.ruleset, "category": self.rule.category}
        if self.rule.description:
            rule["description"] = self.rule.description
        if self.rule.references:
            rule["reference"] = " ".join(self.rule.references)
        # Built nested (the alert's own part is most of the document); the fields above
        # were unflattened, and the alert's own values win where both name a key.
        own: dict[str, dict[str, Any]] = {
            "event": {
                "id": self.id, "kind": "alert", "module": "ronda", "dataset": "ronda.alert",
                "severity": self.severity.score, "risk_score": float(self.severity.score),
                "start": first, "end": last,
            },
            "rule": rule,
            "observer": {"name": self.sensor, "vendor": "Ronda", "product": "ronda",
                         "type": "ids", "version": __version__},
            "ecs": {"version": ECS_VERSION},
            "ronda": {
                "severity": self.severity.value, "count": self.count, "first_seen": first,
                "last_seen": last, "key": self.key, "detector": self.detector,
                "source": self.source, "evidence": list(self.evidence),
            },
        }
        for section, values in own.items():
            have = doc.get(section)
            if type(have) is dict:
                have.update(values)
            else:
                doc[section] = values if have is None else {"value": have, **values}
        doc["@timestamp"] = last
        doc["message"] = self.message
        return doc
