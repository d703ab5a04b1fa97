"""The Network dashboard: scans and other network alerts, DNS, flows and top talkers."""

from __future__ import annotations

from objects_common import ALERTS, DNS, EVENTS, FLOWS, NAV, NETWORK_ALERTS, NETWORK_SEARCH, TLS
from sobuild import Obj, Panel, count_col, dashboard, date_col, lens, metric_col, pie, table, xy
from sobuild import terms_col as terms

SCANS = "rule.category:port-scan"

ALERTS_OVER_TIME = lens(
    "ronda-network-alerts", "Network alerts over time by category", ALERTS,
    [date_col(), terms("rule.category", "Category", "category", order_by="count"),
     count_col("Alerts")],
    "xy", xy("bar_stacked", "time", ["count"], split="category"), query=NETWORK_ALERTS)
SCANNERS = lens(
    "ronda-network-scanners", "Port scanners", ALERTS,
    [terms("source.ip", "Source address", "source", order_by="count", size=15,
           data_type="ip", other=False),
     terms("source.geo.country_name", "Country", "country", order_by="count", size=1,
           other=False),
     count_col("Scan alerts"),
     metric_col("unique_count", "destination.ip", "Targets", "targets")],
    "table", table(["source", "country", "count", "targets"]), query=SCANS)
BYTES_OVER_TIME = lens(
    "ronda-network-bytes", "Traffic over time by transport", EVENTS,
    [date_col(), terms("network.transport", "Transport", "transport", order_by="bytes",
                       size=5),
     metric_col("sum", "network.bytes", "Bytes", "bytes", fmt="bytes")],
    "xy", xy("area_stacked", "time", ["bytes"], split="transport"), query=FLOWS)
TALKERS = lens(
    "ronda-network-talkers", "Top talkers", EVENTS,
    [terms("source.ip", "Source address", "source", order_by="bytes", size=15,
           data_type="ip", other=False),
     metric_col("sum", "network.bytes", "Bytes", "bytes", fmt="bytes"),
     metric_col("sum", "network.packets", "Packets", "packets"),
     count_col("Flows"),
     metric_col("unique_count", "destination.ip", "Peers", "peers")],
    "table", table(["source", "bytes", "packets", "count", "peers"]), query=FLOWS)
DESTINATIONS = lens(
    "ronda-network-destinations", "Top destinations", EVENTS,
    [terms("destination.ip", "Destination address", "destination", order_by="bytes",
           size=15, data_type="ip", other=False),
     terms("destination.port", "Port", "port", order_by="bytes", size=3, data_type="number",
           other=False),
     metric_col("sum", "network.bytes", "Bytes", "bytes", fmt="bytes"),
     count_col("Flows")],
    "table", table(["destination", "port", "bytes", "count"]), query=FLOWS)
FLOW_STATES = lens(
    "ronda-network-flow-states", "Flows by state", EVENTS,
    [terms("ronda.flow.state", "State", "state", order_by="count"), count_col("Flows")],
    "pie", pie("state", "count"), query=FLOWS)
DNS_QUERIES = lens(
    "ronda-network-dns-queries", "Top DNS queries", EVENTS,
    [terms("dns.question.name", "Name", "name", order_by="count", size=20, other=False),
     count_col("Queries"),
     metric_col("unique_count", "source.ip", "Clients", "clients")],
    "table", table(["name", "count", "clients"]), query=DNS)
DNS_TYPES = lens(
    "ronda-network-dns-types", "DNS query types", EVENTS,
    [terms("dns.question.type", "Type", "type", order_by="count"), count_col("Queries")],
    "pie", pie("type", "count"), query=DNS)
DNS_CODES = lens(
    "ronda-network-dns-codes", "DNS response codes", EVENTS,
    [date_col(), terms("dns.response_code", "Response code", "rcode", order_by="count",
                       size=6),
     count_col("Queries")],
    "xy", xy("bar_stacked", "time", ["count"], split="rcode"), query=DNS)
TLS_NAMES = lens(
    "ronda-network-tls-names", "Top TLS server names (SNI)", EVENTS,
    [terms("tls.client.server_name", "Server name", "sni", order_by="count", size=20,
           other=False),
     count_col("Connections"),
     metric_col("unique_count", "source.ip", "Clients", "clients")],
    "table", table(["sni", "count", "clients"]), query=TLS)

DESCRIPTION = (
    "Network view: scan, flood, DNS-tunnel, C2 and threat-intel alerts (data view "
    "logs-ronda.alert-*), and the sensor's network events (data view Ronda events, "
    "logs-ronda.* without alerts): flows (data_stream.dataset ronda.network.flow), top talkers and "
    "destinations, DNS queries and response codes, TLS server names.")


def objects() -> list[Obj]:
    panels = [
        Panel(0, 0, 48, 3, markdown=NAV, config={"hidePanelTitles": True}),
        Panel(0, 3, 28, 14, ALERTS_OVER_TIME),
        Panel(28, 3, 20, 14, SCANNERS),
        Panel(0, 17, 28, 14, BYTES_OVER_TIME),
        Panel(28, 17, 20, 14, FLOW_STATES),
        Panel(0, 31, 24, 15, TALKERS),
        Panel(24, 31, 24, 15, DESTINATIONS),
        Panel(0, 46, 20, 15, DNS_QUERIES),
        Panel(20, 46, 12, 15, DNS_TYPES),
        Panel(32, 46, 16, 15, DNS_CODES),
        Panel(0, 61, 20, 15, TLS_NAMES),
        Panel(20, 61, 28, 15, NETWORK_SEARCH),
    ]
    board = dashboard("ronda-network", "Ronda: Network", DESCRIPTION, panels)
    vis = [ALERTS_OVER_TIME, SCANNERS, BYTES_OVER_TIME, TALKERS, DESTINATIONS, FLOW_STATES,
           DNS_QUERIES, DNS_TYPES, DNS_CODES, TLS_NAMES]
    return [*vis, board]
