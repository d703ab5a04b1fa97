"""The Overview dashboard: alerts over time by severity and category, top rules, sources and
targeted sites, and a map of where the attacks come from."""

from __future__ import annotations

from objects_common import ALERTS, HIGH_ALERTS, NAV, TRIAGE_SEARCH
from sobuild import (
    Control,
    Obj,
    Panel,
    count_col,
    dashboard,
    date_col,
    geo_grid_map,
    lens,
    metric,
    metric_col,
    pie,
    table,
    terms_col,
    xy,
)

ALERTS_COUNT = lens(
    "ronda-overview-alerts", "Alerts", ALERTS, [count_col("Alerts")], "metric",
    metric("count"))
HIGH_COUNT = lens(
    "ronda-overview-high", "High and critical alerts", ALERTS,
    [count_col("High and critical", query=HIGH_ALERTS)], "metric", metric("count"))
SOURCES_COUNT = lens(
    "ronda-overview-sources", "Attacking addresses", ALERTS,
    [metric_col("unique_count", "source.ip", "Source addresses", "sources")], "metric",
    metric("sources"))
SITES_COUNT = lens(
    "ronda-overview-sites", "Targeted websites", ALERTS,
    [metric_col("unique_count", "url.domain", "Websites", "sites")], "metric", metric("sites"))

OVER_TIME = lens(
    "ronda-overview-over-time", "Alerts over time by severity", ALERTS,
    [date_col(), terms_col("ronda.severity", "Severity", "severity", order_by="count",
                           size=4, other=False),
     count_col("Alerts")],
    "xy", xy("bar_stacked", "time", ["count"], split="severity"))
BY_CATEGORY = lens(
    "ronda-overview-by-category", "Alerts by category", ALERTS,
    [terms_col("rule.category", "Category", "category", order_by="count", size=19),
     count_col("Alerts")],
    "pie", pie("category", "count"))
TOP_RULES = lens(
    "ronda-overview-top-rules", "Top rules", ALERTS,
    [terms_col("rule.name", "Rule", "rule", order_by="count", size=15, other=False),
     terms_col("rule.category", "Category", "category", order_by="count", size=1,
               other=False),
     count_col("Alerts"),
     metric_col("sum", "ronda.count", "Repeats", "repeats")],
    "table", table(["rule", "category", "count", "repeats"]))
TOP_SOURCES = lens(
    "ronda-overview-top-sources", "Top attacking addresses", ALERTS,
    [terms_col("source.ip", "Source address", "source", order_by="count", size=15,
               data_type="ip", other=False),
     terms_col("source.geo.country_name", "Country", "country", order_by="count", size=1,
               other=False),
     count_col("Alerts"),
     metric_col("unique_count", "rule.id", "Rules", "rules")],
    "table", table(["source", "country", "count", "rules"]))
TOP_SITES = lens(
    "ronda-overview-top-sites", "Most targeted websites", ALERTS,
    [terms_col("url.domain", "Website", "site", order_by="count", size=15, other=False),
     count_col("Alerts"),
     metric_col("unique_count", "source.ip", "Attackers", "attackers")],
    "table", table(["site", "count", "attackers"]))
SOURCE_MAP = geo_grid_map(
    "ronda-overview-map", "Where the attacks come from", ALERTS, "source.geo.location",
    "Alerts by the location of their source address (GeoIP), clustered.")

DESCRIPTION = (
    "Ronda alerts at a glance (data view logs-ronda.alert-*): how many, how severe, which "
    "categories and rules, which addresses attack, which websites are targeted, and from "
    "where. Filter with the controls; open the triage table below for details.")


def objects() -> list[Obj]:
    panels = [
        Panel(0, 0, 48, 3, markdown=NAV, config={"hidePanelTitles": True}),
        Panel(0, 3, 12, 6, ALERTS_COUNT),
        Panel(12, 3, 12, 6, HIGH_COUNT),
        Panel(24, 3, 12, 6, SOURCES_COUNT),
        Panel(36, 3, 12, 6, SITES_COUNT),
        Panel(0, 9, 32, 13, OVER_TIME),
        Panel(32, 9, 16, 13, BY_CATEGORY),
        Panel(0, 22, 24, 14, TOP_RULES),
        Panel(24, 22, 24, 14, TOP_SOURCES),
        Panel(0, 36, 20, 16, TOP_SITES),
        Panel(20, 36, 28, 16, SOURCE_MAP,
              config={"hiddenLayers": [], "isLayerTOCOpen": False, "openTOCDetails": [],
                      "mapCenter": {"lat": 5.0, "lon": 110.0, "zoom": 1.6}}),
        Panel(0, 52, 48, 15, TRIAGE_SEARCH),
    ]
    controls = [Control("ronda.severity", "Severity", ALERTS),
                Control("rule.category", "Category", ALERTS),
                Control("url.domain", "Website", ALERTS)]
    board = dashboard("ronda-overview", "Ronda: Overview", DESCRIPTION, panels, controls)
    vis = [ALERTS_COUNT, HIGH_COUNT, SOURCES_COUNT, SITES_COUNT, OVER_TIME, BY_CATEGORY,
           TOP_RULES, TOP_SOURCES, TOP_SITES, SOURCE_MAP]
    return [*vis, board]
