"""The two records that cross stage boundaries: Event (observation) and Alert (conclusion)."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field

from ronda import __version__

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


@dataclass(slots=True)
class Event:
    """One observation. Cheap to create: no validation in the hot path.

    ``fields`` is a flat mapping of ECS field names (``source.ip``, ``url.original``...)
    to values. ``message`` is the raw line or excerpt; ``source`` is the name of the
    source component that produced it.
    """

    dataset: str
    timestamp: float
    fields: dict[str, Any] = field(default_factory=dict)
    message: str = ""
    source: str = ""

    def get(self, name: str, default: Any = None) -> Any:
        return self.fields.get(name, default)

    def to_ecs(self, observer: str = "") -> dict[str, Any]:
        flat: dict[str, Any] = {k: (base64.b64encode(v).decode("ascii")
                                    if isinstance(v, bytes | bytearray) else v)
                                for k, v in self.fields.items()}  # payload samples
        flat["@timestamp"] = iso_time(self.timestamp)
        flat["event.dataset"] = self.dataset
        flat.setdefault("event.kind", "event")
        if self.message:
            flat["message"] = self.message
        if observer:
            flat["observer.name"] = observer
        if self.source:
            flat["ronda.source"] = self.source
        return unflatten(flat)


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
        flat.update(
            {
                "@timestamp": iso_time(self.last_seen),
                "event.id": self.id,
                "event.kind": "alert",
                "event.module": "ronda",
                "event.dataset": "ronda.alert",
                "event.severity": self.severity.score,
                "event.risk_score": float(self.severity.score),
                "event.start": iso_time(self.first_seen),
                "event.end": iso_time(self.last_seen),
                "rule.id": self.rule.id,
                "rule.name": self.rule.name,
                "rule.ruleset": self.rule.ruleset,
                "rule.category": self.rule.category,
                "message": self.message,
                "observer.name": self.sensor,
                "observer.vendor": "Ronda",
                "observer.product": "ronda",
                "observer.type": "ids",
                "observer.version": __version__,
                "ecs.version": ECS_VERSION,
                "ronda.severity": self.severity.value,
                "ronda.count": self.count,
                "ronda.first_seen": iso_time(self.first_seen),
                "ronda.last_seen": iso_time(self.last_seen),
                "ronda.key": self.key,
                "ronda.detector": self.detector,
                "ronda.source": self.source,
                "ronda.evidence": list(self.evidence),
            }
        )
        if self.rule.description:
            flat["rule.description"] = self.rule.description
        if self.rule.references:
            flat["rule.reference"] = " ".join(self.rule.references)
        if self.techniques:
            flat["threat.framework"] = "MITRE ATT&CK"
            flat["threat.technique.id"] = list(self.techniques)
        return unflatten(flat)


def iso_time(ts: float) -> str:
    """RFC 3339 UTC with milliseconds, as Elasticsearch's date type expects."""
    dt = datetime.fromtimestamp(ts, tz=UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def unflatten(flat: dict[str, Any]) -> dict[str, Any]:
    """Turn ``{"source.ip": x}`` into ``{"source": {"ip": x}}``.

    ``@timestamp`` stays a top-level key. A leaf that collides with an object
    (``a`` and ``a.b``) keeps the object and stores the leaf under ``a.value``.
    """
    out: dict[str, Any] = {}
    for key in sorted(flat):
        value = flat[key]
        parts = key.split(".") if not key.startswith("@") else [key]
        node = out
        for part in parts[:-1]:
            nxt = node.get(part)
            if not isinstance(nxt, dict):
                nxt = {} if nxt is None else {"value": nxt}
                node[part] = nxt
            node = nxt
        last = parts[-1]
        if isinstance(node.get(last), dict):
            node[last]["value"] = value
        else:
            node[last] = value
    return out
