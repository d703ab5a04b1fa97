"""Ronda alerts as Alertmanager v2 alerts: labels, annotations, times and the Kibana link.

Labels stay few and stable (they are Alertmanager's identity, grouping and routing keys):
``alertname`` and ``rule_id`` (the rule id), ``category``, ``severity``, ``sensor``,
``source_ip`` (only when the alert has ``source.ip``) and ``ronda="true"``. Everything
that changes from one alert to the next (message, count, times, evidence, the Kibana
link) is an annotation.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ronda.schema import Alert, iso_time

SUMMARY_LIMIT = 1024
DESCRIPTION_LIMIT = 1024
KIBANA_LOOKBACK = 3600.0  # the Discover time range starts this long before first_seen

# A label set, hashable: Alertmanager merges alerts with the same one.
Fingerprint = tuple[tuple[str, str], ...]


def alert_labels(alert: Alert, sensor: str) -> dict[str, str]:
    out = {
        "alertname": alert.rule.id,
        "rule_id": alert.rule.id,
        "category": alert.rule.category,
        "severity": alert.severity.value,
        "sensor": alert.sensor or sensor,
        "ronda": "true",
    }
    ip = alert.fields.get("source.ip")
    if ip is not None and str(ip):
        out["source_ip"] = str(ip)
    return {k: v for k, v in out.items() if v}  # Alertmanager drops empty labels anyway


def fingerprint(label_set: dict[str, str]) -> Fingerprint:
    return tuple(sorted(label_set.items()))


def cut(text: str, limit: int) -> str:
    """``text`` shortened to at most ``limit`` characters, marked with an ellipsis."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def kibana_link(base: str, alert: Alert) -> str:
    """Discover filtered on the alert's ``event.id``, from an hour before it started.

    The rison query string quotes the id with ``%22`` (a literal ``"`` is not allowed in
    a URL and would break an HTML ``href``); Kibana decodes it.
    """
    start = datetime.fromtimestamp(alert.first_seen - KIBANA_LOOKBACK, tz=UTC)
    since = start.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    return (
        f"{base.rstrip('/')}/app/discover#/"
        f"?_g=(time:(from:'{since}',to:now))"
        f"&_a=(query:(language:kuery,query:'event.id:%22{alert.id}%22'))"
    )


def description(alert: Alert) -> str:
    lines = []
    if alert.rule.description:
        lines.append(alert.rule.description.strip())
    lines.append(
        f"{alert.rule.name}: {alert.count} times, first seen {iso_time(alert.first_seen)}, "
        f"last seen {iso_time(alert.last_seen)}."
    )
    first = alert.evidence[0].strip().splitlines() if alert.evidence else []
    if first:
        lines.append(f"Evidence: {first[0]}")
    return cut("\n".join(lines), DESCRIPTION_LIMIT)


def alert_annotations(alert: Alert, kibana: str | None) -> dict[str, str]:
    out = {
        "summary": cut(alert.message, SUMMARY_LIMIT),
        "description": description(alert),
        "rule_name": alert.rule.name,
        "event_id": alert.id,
        "count": str(alert.count),
    }
    if kibana:
        out["kibana"] = kibana
    return out


def am_alert(
    alert: Alert, label_set: dict[str, str], kibana_url: str | None, ends_at: float | None
) -> dict[str, Any]:
    """One element of the ``POST /api/v2/alerts`` body. ``ends_at`` only when resolving
    (never before ``startsAt``, which Alertmanager would reject)."""
    link = kibana_link(kibana_url, alert) if kibana_url else None
    doc: dict[str, Any] = {
        "labels": dict(label_set),
        "annotations": alert_annotations(alert, link),
        "startsAt": iso_time(alert.first_seen),
    }
    if ends_at is not None:
        doc["endsAt"] = iso_time(max(ends_at, alert.first_seen))
    if link:
        doc["generatorURL"] = link
    return doc
