"""The Web attacks dashboard: attacks on the agencies' websites, per website (``url.domain``,
the virtual host) and server (``host.hostname``), and per category."""

from __future__ import annotations

from objects_common import ALERTS, NAV, WEB_ALERTS, WEB_SEARCH
from sobuild import (
    Control,
    Obj,
    Panel,
    count_col,
    dashboard,
    date_col,
    lens,
    metric_col,
    pie,
    table,
    terms_col,
    xy,
)

BY_SITE = lens(
    "ronda-web-by-site", "Web attacks per website and category", ALERTS,
    [terms_col("url.domain", "Website", "site", order_by="count", size=15, other=False),
     terms_col("rule.category", "Category", "category", order_by="count", size=10),
     count_col("Alerts")],
    "xy", xy("bar_horizontal_stacked", "site", ["count"], split="category"), query=WEB_ALERTS)
OVER_TIME = lens(
    "ronda-web-over-time", "Web attacks over time by category", ALERTS,
    [date_col(), terms_col("rule.category", "Category", "category", order_by="count"),
     count_col("Alerts")],
    "xy", xy("bar_stacked", "time", ["count"], split="category"), query=WEB_ALERTS)
SITE_TABLE = lens(
    "ronda-web-site-table", "Websites and servers under attack", ALERTS,
    [terms_col("url.domain", "Website", "site", order_by="count", size=20, other=False),
     terms_col("host.hostname", "Server", "server", order_by="count", size=3, other=False),
     terms_col("rule.category", "Category", "category", order_by="count", size=5,
               other=False),
     count_col("Alerts"),
     metric_col("unique_count", "source.ip", "Attackers", "attackers")],
    "table", table(["site", "server", "category", "count", "attackers"]), query=WEB_ALERTS)
TOP_PATHS = lens(
    "ronda-web-top-paths", "Most attacked paths", ALERTS,
    [terms_col("url.path", "Path", "path", order_by="count", size=20, other=False),
     count_col("Alerts")],
    "table", table(["path", "count"]), query=WEB_ALERTS)
TOP_AGENTS = lens(
    "ronda-web-top-agents", "User agents of the attackers", ALERTS,
    [terms_col("user_agent.original", "User agent", "agent", order_by="count", size=15,
               other=False),
     count_col("Alerts")],
    "table", table(["agent", "count"]), query=WEB_ALERTS)
TOP_SOURCES = lens(
    "ronda-web-top-sources", "Top web attackers", ALERTS,
    [terms_col("source.ip", "Source address", "source", order_by="count", size=15,
               data_type="ip", other=False),
     terms_col("source.geo.country_name", "Country", "country", order_by="count", size=1,
               other=False),
     count_col("Alerts"),
     metric_col("unique_count", "url.domain", "Websites", "sites")],
    "table", table(["source", "country", "count", "sites"]), query=WEB_ALERTS)
STATUS = lens(
    "ronda-web-status", "HTTP status of attacking requests", ALERTS,
    [terms_col("http.response.status_code", "Status", "status", order_by="count",
               data_type="number"),
     count_col("Alerts")],
    "pie", pie("status", "count"), query=WEB_ALERTS)

DESCRIPTION = (
    "Attacks on the websites (alerts of the categories sqli, xss, path-traversal, rce, "
    "php-injection, webshell, scanner, sensitive-file, defacement, gambling-spam): per "
    "website (url.domain, the virtual host) and server (host.hostname), per category, "
    "with the paths, user agents and addresses involved.")


def objects() -> list[Obj]:
    panels = [
        Panel(0, 0, 48, 3, markdown=NAV, config={"hidePanelTitles": True}),
        Panel(0, 3, 28, 16, BY_SITE),
        Panel(28, 3, 20, 16, OVER_TIME),
        Panel(0, 19, 32, 15, SITE_TABLE),
        Panel(32, 19, 16, 15, STATUS),
        Panel(0, 34, 16, 15, TOP_PATHS),
        Panel(16, 34, 16, 15, TOP_SOURCES),
        Panel(32, 34, 16, 15, TOP_AGENTS),
        Panel(0, 49, 48, 15, WEB_SEARCH),
    ]
    controls = [Control("url.domain", "Website", ALERTS),
                Control("rule.category", "Category", ALERTS),
                Control("ronda.severity", "Severity", ALERTS)]
    board = dashboard("ronda-web-attacks", "Ronda: Web attacks", DESCRIPTION, panels, controls)
    return [BY_SITE, OVER_TIME, SITE_TABLE, TOP_PATHS, TOP_AGENTS, TOP_SOURCES, STATUS, board]
