"""The Response dashboard: what was detected (high and critical alerts) next to what was done
about it (addresses blocked and unblocked, web files restored).

The actions come from the audit events of the blocker and recovery responders. The contract
they follow (README, Kibana section) is stated on the dashboard itself.
"""

from __future__ import annotations

from objects_common import (
    ALERTS,
    BLOCKED,
    EVENTS,
    HIGH_ALERTS,
    NAV,
    RESPONSE,
    RESPONSE_SEARCH,
    RESTORED,
)
from sobuild import (
    Obj,
    Panel,
    count_col,
    dashboard,
    date_col,
    lens,
    metric,
    metric_col,
    pie,
    table,
    terms_col,
    xy,
)

CONTRACT = (
    "**Response actions** are the audit events of the blocker and recovery responders: "
    "events of dataset `response`, stored in the data stream "
    "`logs-ronda.response-<namespace>` (`data_stream.dataset: ronda.response`, "
    "`event.kind: event`): `event.action` is `ip_blocked`, `ip_unblocked` "
    "(`event.category: network`, the address in `source.ip`) or `file_restored` "
    "(`event.category: file`, the file in `file.path`, the server in `host.hostname`); "
    "`event.outcome` is `success` or `failure`; `rule.id` names the rule of the alert that "
    "caused it. Detection on the left, protection and recovery on the right.")

HIGH_COUNT = lens(
    "ronda-response-high", "High and critical alerts", ALERTS,
    [count_col("High and critical", query=HIGH_ALERTS)], "metric", metric("count"))
BLOCKED_COUNT = lens(
    "ronda-response-blocked-count", "Addresses blocked", EVENTS,
    [metric_col("unique_count", "source.ip", "Addresses blocked", "blocked", query=BLOCKED)],
    "metric", metric("blocked"))
RESTORED_COUNT = lens(
    "ronda-response-restored-count", "Files restored", EVENTS,
    [count_col("Files restored", query=RESTORED)], "metric", metric("count"))
FAILED_COUNT = lens(
    "ronda-response-failed-count", "Failed actions", EVENTS,
    [count_col("Failed actions", query=f"{RESPONSE} and event.outcome:failure")], "metric",
    metric("count"))
HIGH_OVER_TIME = lens(
    "ronda-response-high-over-time", "High and critical alerts over time", ALERTS,
    [date_col(), terms_col("ronda.severity", "Severity", "severity", order_by="count", size=2,
                           other=False),
     count_col("Alerts")],
    "xy", xy("bar_stacked", "time", ["count"], split="severity"), query=HIGH_ALERTS)
ACTIONS_OVER_TIME = lens(
    "ronda-response-actions", "Response actions over time", EVENTS,
    [date_col(), terms_col("event.action", "Action", "action", order_by="count", size=3,
                           other=False),
     count_col("Actions")],
    "xy", xy("bar_stacked", "time", ["count"], split="action"), query=RESPONSE)
HIGH_SOURCES = lens(
    "ronda-response-high-sources", "Sources of high and critical alerts", ALERTS,
    [terms_col("source.ip", "Source address", "source", order_by="count", size=15,
               data_type="ip", other=False),
     terms_col("rule.category", "Category", "category", order_by="count", size=1,
               other=False),
     count_col("Alerts"),
     metric_col("max", "@timestamp", "Last alert", "last", data_type="date")],
    "table", table(["source", "category", "count", "last"]), query=HIGH_ALERTS)
BLOCKED_TABLE = lens(
    "ronda-response-blocked", "Blocked addresses", EVENTS,
    [terms_col("source.ip", "Address", "source", order_by="count", size=20, data_type="ip",
               other=False),
     count_col("Blocks"),
     metric_col("max", "@timestamp", "Last blocked", "last", data_type="date")],
    "table", table(["source", "count", "last"]), query=BLOCKED)
RESTORED_TABLE = lens(
    "ronda-response-restored", "Restored web files", EVENTS,
    [terms_col("file.path", "File", "file", order_by="count", size=20, other=False),
     terms_col("host.hostname", "Server", "server", order_by="count", size=3, other=False),
     count_col("Restores"),
     metric_col("max", "@timestamp", "Last restored", "last", data_type="date")],
    "table", table(["file", "server", "count", "last"]), query=RESTORED)
OUTCOMES = lens(
    "ronda-response-outcomes", "Outcome of response actions", EVENTS,
    [terms_col("event.outcome", "Outcome", "outcome", order_by="count", size=3),
     count_col("Actions")],
    "pie", pie("outcome", "count"), query=RESPONSE)

DESCRIPTION = (
    "Detection next to protection and recovery: high and critical alerts (logs-ronda.alert-*) "
    "beside the response actions of the blocker and recovery responders. Assumption: those "
    "responders write audit events (Event dataset response) to the data stream "
    "logs-ronda.response-<namespace> (data_stream.dataset ronda.response, event.kind event) "
    "with event.action ip_blocked / ip_unblocked "
    "(event.category network, address in source.ip) or file_restored (event.category file, "
    "file in file.path, server in host.hostname), event.outcome success / failure, and "
    "rule.id of the alert's rule.")


def objects() -> list[Obj]:
    panels = [
        Panel(0, 0, 48, 3, markdown=NAV, config={"hidePanelTitles": True}),
        Panel(0, 3, 48, 5, markdown=CONTRACT, config={"hidePanelTitles": True}),
        Panel(0, 8, 12, 6, HIGH_COUNT),
        Panel(12, 8, 12, 6, BLOCKED_COUNT),
        Panel(24, 8, 12, 6, RESTORED_COUNT),
        Panel(36, 8, 12, 6, FAILED_COUNT),
        Panel(0, 14, 24, 13, HIGH_OVER_TIME),
        Panel(24, 14, 24, 13, ACTIONS_OVER_TIME),
        Panel(0, 27, 24, 15, HIGH_SOURCES),
        Panel(24, 27, 24, 15, BLOCKED_TABLE),
        Panel(0, 42, 32, 15, RESTORED_TABLE),
        Panel(32, 42, 16, 15, OUTCOMES),
        Panel(0, 57, 48, 15, RESPONSE_SEARCH),
    ]
    board = dashboard("ronda-response", "Ronda: Response", DESCRIPTION, panels,
                      time_from="now-7d")
    vis = [HIGH_COUNT, BLOCKED_COUNT, RESTORED_COUNT, FAILED_COUNT, HIGH_OVER_TIME,
           ACTIONS_OVER_TIME, HIGH_SOURCES, BLOCKED_TABLE, RESTORED_TABLE, OUTCOMES]
    return [*vis, board]
