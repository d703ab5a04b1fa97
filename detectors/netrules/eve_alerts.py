"""The ``suricata`` detector: Suricata's own alerts (``suricata.alert`` events read from
EVE JSON) as Ronda alerts, so sites that already run Suricata feed Ronda.

Configured as ``detectors: {suricata: {type: suricata}}``. Rule id ``sid:<sid>``, ruleset
``suricata``, severity from the alert's severity (1 high, 2 medium, 3 low), category from
its classification text through the same table as the ``netrules`` detector.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal, cast

from pydantic import Field

from detectors.net.common import Counters
from detectors.netrules.classify import CATEGORY, HINTS
from ronda.component import Context, Detector, DetectorConfig
from ronda.schema import Alert, Category, Event, RuleRef, Severity

# Suricata's classification descriptions (what EVE's alert.category holds) -> classtype
DESCRIPTIONS: dict[str, str] = {
    "detection of a network scan": "network-scan",
    "attempted information leak": "attempted-recon",
    "web application attack": "web-application-attack",
    "a network trojan was detected": "trojan-activity",
    "malware command and control activity detected": "command-and-control",
    "domain observed used for c2 detected": "domain-c2",
    "attempted denial of service": "attempted-dos",
    "detection of a denial of service attack": "denial-of-service",
    "potential corporate privacy violation": "policy-violation",
    "potentially bad traffic": "bad-unknown",
    "successful credential theft detected": "credential-theft",
    "attempt to login by a default username and password": "default-login-attempt",
    "an attempted login using a suspicious username was detected": "suspicious-login",
}
SEVERITIES = {1: Severity.HIGH, 2: Severity.MEDIUM}
FIELDS = ("source.ip", "source.port", "destination.ip", "destination.port",
          "network.transport", "network.protocol", "network.community_id", "url.original",
          "url.domain", "http.request.method", "user_agent.original", "dns.question.name",
          "tls.client.server_name", "rule.category")


class SuricataConfig(DetectorConfig):
    type: Literal["suricata"]
    min_severity: int = Field(default=3, ge=1, le=255)
    """Suricata severities above this number (less severe) are dropped."""


def eve_category(description: str, signature: str) -> str:
    base = CATEGORY.get(DESCRIPTIONS.get(description.lower(), ""), "policy")
    if base in ("rce", "port-scan", "policy", "intel-match"):
        low = signature.lower()
        for word, cat in HINTS:
            if word in low and not (cat == "scanner" and base == "port-scan"):
                return cat
    return base


class SuricataDetector(Detector):
    config_model = SuricataConfig
    config: SuricataConfig

    def __init__(self, name: str, config: SuricataConfig, ctx: Context) -> None:
        super().__init__(name, config, ctx)
        self._counters = Counters(name, ctx)

    def reload(self) -> int:
        self._counters.rules_loaded.set(1)
        return 1

    def process(self, events: Sequence[Event]) -> list[Alert]:
        alerts: list[Alert] = []
        for event in events:
            if event.dataset != "suricata.alert":
                continue
            alert = self._alert(event)
            if alert is not None:
                alerts.append(alert)
        self._counters.done(len(events), len(alerts), 0)
        return alerts

    def _alert(self, event: Event) -> Alert | None:
        f = event.fields
        sid = f.get("rule.id")
        if not isinstance(sid, str) or not sid:
            return None
        sev_num = f.get("ronda.suricata.severity")
        sev_n = sev_num if isinstance(sev_num, int) else 3
        if sev_n > self.config.min_severity:
            return None
        signature = str(f.get("rule.name") or f"sid:{sid}")
        description = str(f.get("rule.category") or "")
        ref = RuleRef(id=f"sid:{sid}", name=signature, ruleset="suricata",
                      category=cast(Category, eve_category(description, signature)),
                      description=description)
        fields: dict[str, Any] = {k: f[k] for k in FIELDS if k in f and k != "rule.category"}
        fields.update({k: v for k, v in f.items() if k.startswith("ronda.suricata.")})
        src = f.get("source.ip")
        return Alert(rule=ref, severity=SEVERITIES.get(sev_n, Severity.LOW),
                     message=f"{signature} ({src})", first_seen=event.timestamp,
                     last_seen=event.timestamp, key=str(src or ""), fields=fields,
                     evidence=(event.message[:300],) if event.message else (),
                     sensor=self.ctx.sensor, detector=self.name, source=event.source)
