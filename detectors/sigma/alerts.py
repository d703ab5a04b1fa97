"""The alert of a matching base rule: what a responder reads at a glance.

- ``key``: ``source.ip`` when the event has it (else ``host.hostname``/``host.name``, else
  ``user.name``), so the aggregator merges repeats of one rule from one source;
- ``fields``: the event's context (addresses, user, host, ``url.*``, ``http.*``,
  ``user_agent.original``, ``destination.*``);
- ``message``: ``<title> from <source.ip>: <method> <url.original>`` for web requests,
  ``<title> from <source.ip>: user <user.name>`` for logins, shorter when fields are missing;
- ``evidence``: the raw log line (at most 1024 characters).
"""

from __future__ import annotations

from typing import Any

from detectors.sigma.ruleset import CompiledRule
from ronda.schema import Alert, Event

CONTEXT_FIELDS = (
    "source.ip",
    "source.port",
    "source.domain",
    "user.name",
    "user.effective.name",
    "url.domain",
    "host.hostname",
    "host.name",
    "user_agent.original",
    "process.name",
    "process.command_line",
    "event.action",
    "event.outcome",
)
"""ECS fields copied from the matching event into the alert when present."""

CONTEXT_PREFIXES = ("url.", "http.", "destination.")

KEY_FIELDS = ("source.ip", "host.hostname", "host.name", "user.name")

MAX_EVIDENCE_CHARS = 1024
MAX_URL_CHARS = 200

_PLAIN = (str, int, float, bool)


def base_alert(rule: CompiledRule, event: Event, sensor: str, detector: str) -> Alert:
    src = event.fields
    fields: dict[str, Any] = {}
    for name in CONTEXT_FIELDS:
        value = src.get(name)
        if value is not None:
            fields[name] = _plain(value)
    for name, value in src.items():
        if name.startswith(CONTEXT_PREFIXES) and value is not None:
            fields[name] = _plain(value)
    key = ""
    for name in KEY_FIELDS:
        value = src.get(name)
        if value is not None and value != "":
            key = str(value)
            break
    evidence = event.message[:MAX_EVIDENCE_CHARS] if event.message else ""
    return Alert(
        rule=rule.ref,
        severity=rule.severity,
        message=describe(rule.ref.name, src),
        first_seen=event.timestamp,
        last_seen=event.timestamp,
        key=key,
        techniques=rule.techniques,
        fields=fields,
        evidence=(evidence,) if evidence else (),
        sensor=sensor,
        detector=detector,
        source=event.source,
    )


def alert_like(first: Alert, rule: CompiledRule, event: Event) -> Alert:
    """The alert of another rule matching the same event: ``first`` with the rule's own
    identity and message (cheaper than building it anew)."""
    return first.model_copy(update={
        "rule": rule.ref,
        "severity": rule.severity,
        "techniques": rule.techniques,
        "message": describe(rule.ref.name, event.fields),
        "fields": dict(first.fields),
    })


def describe(title: str, fields: dict[str, Any]) -> str:
    """``<title> from <source.ip>: <what>``, each part only when the event has it."""
    text = title
    source = fields.get("source.ip")
    host = fields.get("host.hostname") or fields.get("host.name")
    if source:
        text += f" from {source}"
    elif host:
        text += f" on {host}"
    method = fields.get("http.request.method")
    url = fields.get("url.original")
    user = fields.get("user.name")
    if url is not None:
        shown = str(url)
        if len(shown) > MAX_URL_CHARS:
            shown = shown[: MAX_URL_CHARS - 3] + "..."
        what = f"{method} {shown}" if method else shown
        return f"{text}: {what}"
    if user:
        return f"{text}: user {user}"
    return text


def _plain(value: Any) -> Any:
    if isinstance(value, _PLAIN):
        return value
    if isinstance(value, list | tuple):
        return [v if isinstance(v, _PLAIN) else str(v) for v in value]
    return str(value)
