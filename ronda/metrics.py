"""Prometheus metric families shared by every component (one registry per daemon)."""

from __future__ import annotations

import platform
from collections.abc import Callable
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Info
from prometheus_client.exposition import generate_latest

from ronda import __version__
from ronda.procstats import InotifyCollector
from ronda.schema import CATEGORIES, Severity


class Metrics:
    """Owns a private CollectorRegistry; components get bound handles via ``component``."""

    def __init__(self) -> None:
        r = self.registry = CollectorRegistry(auto_describe=True)
        self.received = Counter(
            "ronda_received", "Items a component took in (lines, events or alerts).",
            ["component"], registry=r)
        self.emitted = Counter(
            "ronda_emitted", "Items a component passed on (events or alerts).",
            ["component"], registry=r)
        self.dropped = Counter(
            "ronda_dropped", "Items a component skipped or lost, by reason.",
            ["component", "reason"], registry=r)
        self.errors = Counter(
            "ronda_errors", "Runtime errors in a component.", ["component"], registry=r)
        self.queue_depth = Gauge(
            "ronda_queue_depth", "Items waiting in a component's input queue.",
            ["component"], registry=r)
        self.queue_capacity = Gauge(
            "ronda_queue_capacity", "Capacity of a component's input queue.",
            ["component"], registry=r)
        self.truncated = Counter(
            "ronda_truncated_lines", "Lines longer than the cap, cut and passed on.",
            ["source"], registry=r)
        self.decode_errors = Counter(
            "ronda_decode_errors", "Lines with invalid UTF-8 (bad bytes replaced).",
            ["source"], registry=r)
        self.rotations = Counter(
            "ronda_file_rotations", "Log rotations followed, by style.",
            ["source", "style"], registry=r)
        self.lag_bytes = Gauge(
            "ronda_source_lag_bytes", "Bytes between the read position and the end of a file.",
            ["source", "path"], registry=r)
        self.last_event = Gauge(
            "ronda_last_event_timestamp_seconds", "Wall time of the last event from a source.",
            ["source"], registry=r)
        self.alerts = Counter(
            "ronda_alerts", "New alerts after aggregation.", ["category", "severity"],
            registry=r)
        self.alert_repeats = Counter(
            "ronda_alert_repeats", "Repeats merged into an open alert (ronda.count grew).",
            ["rule"], registry=r)
        self.rules_loaded = Gauge(
            "ronda_rules_loaded", "Rules a detector is running.", ["detector"], registry=r)
        self.rule_reloads = Counter(
            "ronda_rule_reloads", "Rule reloads on SIGHUP, by result.",
            ["detector", "result"], registry=r)
        self.checkpoint_time = Gauge(
            "ronda_checkpoint_timestamp_seconds", "Wall time of the last saved checkpoint.",
            ["source"], registry=r)
        self.expected_interval = Gauge(
            "ronda_source_expected_interval_seconds",
            "Longest silence expected from a source (config expected_interval); "
            "Prometheus alerts when a source is silent longer.", ["source"], registry=r)
        self.packet_decode_errors = Counter(
            "ronda_packets_decode_errors",
            "Packets or capture-file records that could not be decoded (skipped), by reason.",
            ["component", "reason"], registry=r)
        self.packets_skipped = Counter(
            "ronda_packets_skipped",
            "Well-formed packets not tracked in flows (not IP, IP fragments after the "
            "first), by reason.", ["component", "reason"], registry=r)
        self.flows_active = Gauge(
            "ronda_flows_active", "Flows in a source's flow table now.", ["component"],
            registry=r)
        self.proto_buffer_bytes = Gauge(
            "ronda_proto_buffer_bytes", "Bytes the protocol parsers' per-flow buffers of a "
            "packet source hold now (bounded by proto_buffer_bytes).", ["component"],
            registry=r)
        self.flows = Counter(
            "ronda_flows", "Flow records emitted, by event.reason (end, idle, active, "
            "evicted, shutdown).", ["component", "reason"], registry=r)
        self.flow_evictions = Counter(
            "ronda_flow_evictions", "Flows ended early to keep a flow table within "
            "max_flows, by reason.", ["component", "reason"], registry=r)
        self.capture_kernel_packets = Counter(
            "ronda_capture_kernel_packets",
            "Packets the kernel passed a live capture's filter (PACKET_STATISTICS "
            "tp_packets; includes the dropped ones).", ["component"], registry=r)
        self.capture_kernel_drops = Counter(
            "ronda_capture_kernel_drops",
            "Packets the kernel dropped for a live capture because its buffer was full "
            "(PACKET_STATISTICS tp_drops).", ["component"], registry=r)
        self.spool_bytes = Gauge(
            "ronda_spool_bytes", "Bytes in a responder's disk spool not yet delivered.",
            ["component"], registry=r)
        self.spool_oldest_age = Gauge(
            "ronda_spool_oldest_age_seconds",
            "Age of the oldest undelivered record in a responder's spool (0 when empty).",
            ["component"], registry=r)
        self.retries = Counter(
            "ronda_retries", "Failed delivery attempts a responder will retry after a backoff.",
            ["component"], registry=r)
        self.rejected = Counter(
            "ronda_rejected",
            "Documents a server refused as malformed (written to the dead-letter file).",
            ["component"], registry=r)
        for category in CATEGORIES:  # present from the start, so increase() sees the first
            for severity in Severity:
                self.alerts.labels(category=category, severity=severity.value)
        r.register(InotifyCollector())
        self.build = Info("ronda_build", "Ronda build information.", registry=r)
        self.build.info({"version": __version__, "python": platform.python_version()})

    def gauge_callback(self, gauge: Gauge, labels: dict[str, str], fn: Callable[[], float]) -> None:
        gauge.labels(**labels).set_function(fn)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)

    def value(self, name: str, **labels: str) -> float:
        """Current value of a sample (tests and the CLI summary use it)."""
        got = self.registry.get_sample_value(name, labels)
        return 0.0 if got is None else got

    def by_label(self, name: str, label: str, **labels: Any) -> dict[str, float]:
        """Samples of ``name`` matching ``labels``, summed per value of ``label``."""
        out: dict[str, float] = {}
        for family in self.registry.collect():
            for s in family.samples:
                if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                    key = s.labels.get(label, "")
                    out[key] = out.get(key, 0.0) + s.value
        return out

    def total(self, name: str, **labels: Any) -> float:
        """Sum of all samples of ``name`` whose labels include ``labels``."""
        total = 0.0
        for family in self.registry.collect():
            for s in family.samples:
                if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                    total += s.value
        return total
