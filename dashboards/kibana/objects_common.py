"""Ronda's data views, saved searches for triage, and the queries the dashboards share."""

from __future__ import annotations

from sobuild import Obj, data_view, saved_search

ALERTS = "ronda-alerts-dataview"
EVENTS = "ronda-events-dataview"

ALERTS_TITLE = "logs-ronda.alert-*"
EVENTS_TITLE = "logs-ronda.*,-logs-ronda.alert-*"

WEB_CATEGORIES = ("sqli", "xss", "path-traversal", "rce", "php-injection", "webshell",
                  "scanner", "sensitive-file", "defacement", "gambling-spam")
NETWORK_CATEGORIES = ("port-scan", "dos", "dns-tunnel", "c2", "intel-match")


def any_of(field_name: str, values: tuple[str, ...]) -> str:
    return f"{field_name}:({' or '.join(values)})"


WEB_ALERTS = any_of("rule.category", WEB_CATEGORIES)
NETWORK_ALERTS = any_of("rule.category", NETWORK_CATEGORIES)
HIGH_ALERTS = "ronda.severity:(high or critical)"
# Events in the events data view, by kind. An Event of dataset D goes to the data stream
# logs-ronda.D-<namespace> with data_stream.dataset ronda.D (event.dataset stays D).
FLOWS = "data_stream.dataset:ronda.network.flow"
DNS = "dns.question.name:*"
TLS = "tls.client.server_name:*"
# Audit events of the blocker and recovery responders (dataset ronda.response).
BLOCKED = "event.action:ip_blocked"
RESPONSE = "event.action:(ip_blocked or ip_unblocked or file_restored)"
RESTORED = "event.action:file_restored"

NAV = ("**Ronda** · [Overview](#/view/ronda-overview) · [Web attacks](#/view/ronda-web-attacks)"
       " · [Network](#/view/ronda-network) · [Response](#/view/ronda-response)")


def data_views() -> list[Obj]:
    return [
        data_view(ALERTS, "Ronda alerts", ALERTS_TITLE),
        data_view(EVENTS, "Ronda events", EVENTS_TITLE,
                  {"network.bytes": {"id": "bytes"}}),
    ]


TRIAGE_SEARCH = saved_search(
    "ronda-search-triage", "Ronda: alerts to triage (high and critical)",
    "High and critical alerts, newest first: what to look at first.", ALERTS, HIGH_ALERTS,
    ["ronda.severity", "rule.category", "rule.name", "source.ip", "source.geo.country_name",
     "url.domain", "destination.ip", "user.name", "ronda.count", "message"])
ALL_ALERTS_SEARCH = saved_search(
    "ronda-search-alerts", "Ronda: all alerts",
    "Every alert, newest first, with the sensor that raised it.", ALERTS, "",
    ["ronda.severity", "rule.category", "rule.name", "source.ip", "url.domain",
     "host.hostname", "observer.name", "ronda.count", "message"])
WEB_SEARCH = saved_search(
    "ronda-search-web-attacks", "Ronda: web attacks",
    "Alerts of the web categories (injection, webshells, scanners, defacement, gambling "
    "spam), per website.", ALERTS, WEB_ALERTS,
    ["ronda.severity", "url.domain", "rule.category", "rule.name", "source.ip", "url.path",
     "http.request.method", "user_agent.original", "ronda.count"])
NETWORK_SEARCH = saved_search(
    "ronda-search-network", "Ronda: network alerts",
    "Port scans, floods, DNS tunnels, C2 beacons and threat-intel matches.", ALERTS,
    NETWORK_ALERTS,
    ["ronda.severity", "rule.category", "rule.name", "source.ip", "destination.ip",
     "destination.port", "dns.question.name", "ronda.count", "message"])
RESPONSE_SEARCH = saved_search(
    "ronda-search-response", "Ronda: response actions",
    "Audit events of the blocker and recovery responders: addresses blocked and unblocked, "
    "web files restored.", EVENTS, RESPONSE,
    ["event.action", "event.outcome", "source.ip", "file.path", "rule.id", "observer.name",
     "message"])


def saved_searches() -> list[Obj]:
    return [TRIAGE_SEARCH, ALL_ALERTS_SEARCH, WEB_SEARCH, NETWORK_SEARCH, RESPONSE_SEARCH]
