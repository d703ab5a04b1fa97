"""Shared pieces of the network detectors: a bounded LRU table, sliding windows on event
time, evidence lines and alert episodes.

Every table is bounded (``max`` entries); a new key beyond the bound evicts the least
recently touched one, counted in ``evicted`` (the detector turns it into
``ronda_dropped_total{reason="group_evicted"}``). Time is always the events' timestamps.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Callable, Hashable, Iterator, Sequence
from typing import Any, Generic, TypeVar

from ronda.component import Context
from ronda.schema import Event

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

NEG_INF = float("-inf")

EVIDENCE = 5
"""Evidence lines kept per group (the most recent ones)."""

SAMPLES = 10
"""Sample values (ports, hosts, names) reported in an alert."""

MAX_EVIDENCE_CHARS = 300
"""An evidence line is cut to this many characters."""


class LruTable(Generic[K, V]):
    """A dict with a hard size bound and least-recently-touched eviction."""

    __slots__ = ("evicted", "factory", "items", "max")

    def __init__(self, max_items: int, factory: Callable[[], V]) -> None:
        self.max = max(1, max_items)
        self.factory = factory
        self.items: OrderedDict[K, V] = OrderedDict()
        self.evicted = 0

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self) -> Iterator[K]:
        return iter(self.items)

    def get(self, key: K) -> V:
        """The entry for ``key`` (created if new), made the most recent."""
        items = self.items
        value = items.get(key)
        if value is None:
            value = items[key] = self.factory()
            if len(items) > self.max:
                items.popitem(last=False)
                self.evicted += 1
        else:
            items.move_to_end(key)
        return value

    def peek(self, key: K) -> V | None:
        return self.items.get(key)

    def pop(self, key: K) -> None:
        self.items.pop(key, None)

    def oldest(self) -> tuple[K, V] | None:
        if not self.items:
            return None
        key = next(iter(self.items))
        return key, self.items[key]

    def prune(self, cutoff: float, last: Callable[[V], float]) -> int:
        """Drop entries last touched before ``cutoff`` (event time), least recent first.
        Not counted as evictions: their windows are empty anyway."""
        items = self.items
        dropped = 0
        while items:
            key = next(iter(items))
            if last(items[key]) >= cutoff:
                break
            del items[key]
            dropped += 1
        return dropped

    def take_evicted(self) -> int:
        n, self.evicted = self.evicted, 0
        return n


class Episode:
    """When a group alerts: the first time it crosses its threshold, then again (same
    ``first_seen``, so the same alert id and pipeline aggregation key) each time the count
    doubles, reporting only the new part. The episode ends when the group has been quiet
    for a whole window.

    The window classes below extend it, so that a group is one small object (a spoofed
    flood creates a group per packet)."""

    __slots__ = ("evidence", "first", "last", "next_alert", "reported", "start")

    def __init__(self) -> None:
        self.start = 0.0  # first_seen of the episode's alert (0: no alert yet)
        self.first = 0.0  # first contributing event of the current episode
        self.last = NEG_INF
        self.next_alert = 0
        self.reported = 0
        self.evidence: list[str] = []

    @property
    def episode(self) -> Episode:
        return self

    def touch(self, ts: float, window: float, evidence: str) -> bool:
        """Note an event at ``ts``; a quiet gap longer than ``window`` starts over (and
        returns True)."""
        restarted = ts - self.last > window
        if restarted:
            self.start = 0.0
            self.first = ts
            self.next_alert = self.reported = 0
            self.evidence.clear()
        if ts > self.last:
            self.last = ts
        ev = self.evidence
        ev.append(evidence)
        if len(ev) > EVIDENCE:
            del ev[0]
        return restarted

    def due(self, count: int, threshold: int) -> int:
        """When ``count`` warrants an alert (or an update of the open one): the count to
        report, what is new since the episode's last alert (the pipeline's aggregator adds
        the counts of one rule and key up). 0: not due."""
        if count < threshold or count < self.next_alert:
            return 0
        if not self.start:
            self.start = self.first
        self.next_alert = max(threshold, count) * 2
        new = count - self.reported
        self.reported = count
        return max(1, new)


class DistinctWindow(Episode):
    """Distinct values seen in a sliding window: value -> last time seen, oldest first.

    At most ``max_values`` values are kept (the oldest go first), so the count saturates
    at that bound; keep it above the alert threshold.
    """

    __slots__ = ("values",)

    def __init__(self) -> None:
        # Episode.__init__ inlined: a spoofed flood makes one of these per packet
        self.start = 0.0
        self.first = 0.0
        self.last = NEG_INF
        self.next_alert = self.reported = 0
        self.evidence = []
        self.values: OrderedDict[Hashable, float] = OrderedDict()

    def add(self, value: Hashable, ts: float, window: float, max_values: int) -> int:
        values = self.values
        if value in values:
            values.move_to_end(value)
            if ts > values[value]:
                values[value] = ts
        else:
            values[value] = ts
            if len(values) > max_values:
                values.popitem(last=False)
        cutoff = ts - window
        while values:
            first = next(iter(values))
            if values[first] >= cutoff:
                break
            del values[first]
        return len(values)

    def sample(self, n: int = SAMPLES) -> list[Any]:
        """The ``n`` most recent values."""
        out: list[Any] = []
        for value in reversed(self.values):
            out.append(value)
            if len(out) >= n:
                break
        out.reverse()
        return out


class RateWindow(Episode):
    """A count (or sum) in a sliding window, kept in one-second buckets."""

    __slots__ = ("buckets", "total")

    def __init__(self) -> None:
        # Episode.__init__ inlined: a spoofed flood makes one of these per packet
        self.start = 0.0
        self.first = 0.0
        self.last = NEG_INF
        self.next_alert = self.reported = 0
        self.evidence = []
        self.buckets: deque[list[float]] = deque()  # [second, amount]
        self.total = 0.0

    def add(self, ts: float, amount: float, window: float) -> float:
        sec = float(int(ts))
        buckets = self.buckets
        if buckets and buckets[-1][0] >= sec:
            buckets[-1][1] += amount
        else:
            buckets.append([sec, amount])
        self.total += amount
        cutoff = ts - window
        while buckets and buckets[0][0] + 1.0 <= cutoff:
            self.total -= buckets.popleft()[1]
        return self.total


class TwoWindows(Episode):
    """Flows and packets in a sliding window, estimated from two fixed windows (the
    current one and the previous one, weighted by how much of it still overlaps): two
    numbers per counter instead of a bucket list, for tables that a spoofed flood fills
    with one-event groups."""

    __slots__ = ("begin", "cur_flows", "cur_packets", "prev_flows", "prev_packets")

    def __init__(self) -> None:
        # Episode.__init__ inlined: a spoofed flood makes one of these per packet
        self.start = 0.0
        self.first = 0.0
        self.last = NEG_INF
        self.next_alert = self.reported = 0
        self.evidence = []
        self.begin = NEG_INF
        self.cur_flows = self.cur_packets = self.prev_flows = self.prev_packets = 0.0

    def add(self, ts: float, packets: float, window: float) -> tuple[float, float]:
        """Count one flow of ``packets`` at ``ts``; return (flows, packets) in the window."""
        if ts >= self.begin + window:
            if ts < self.begin + 2 * window:
                self.prev_flows, self.prev_packets = self.cur_flows, self.cur_packets
            else:
                self.prev_flows = self.prev_packets = 0.0
            self.begin = ts if self.begin == NEG_INF else ts - (ts - self.begin) % window
            self.cur_flows = self.cur_packets = 0.0
        self.cur_flows += 1
        self.cur_packets += packets
        weight = 1.0 - (ts - self.begin) / window
        return (self.cur_flows + self.prev_flows * weight,
                self.cur_packets + self.prev_packets * weight)


def newest(events: Sequence[Event]) -> float:
    """The newest event time of a batch (-inf for an empty one)."""
    return max((e.timestamp for e in events), default=NEG_INF)


def last_of(group: Episode) -> float:
    return group.last


class Counters:
    """The metric handles every network detector reports with."""

    def __init__(self, name: str, ctx: Context) -> None:
        m = ctx.metrics
        self.received = m.received.labels(component=name)
        self.emitted = m.emitted.labels(component=name)
        self.evicted = m.dropped.labels(component=name, reason="group_evicted")
        self.rules_loaded = m.rules_loaded.labels(detector=name)

    def done(self, events: int, alerts: int, evicted: int) -> None:
        self.received.inc(events)
        if alerts:
            self.emitted.inc(alerts)
        if evicted:
            self.evicted.inc(evicted)


def endpoint(ip: Any, port: Any) -> str:
    text = str(ip)
    if port is None:
        return text
    return f"[{text}]:{port}" if ":" in text else f"{text}:{port}"


def flow_evidence(event: Event) -> str:
    """The flow event's message (the sensor writes ``tcp 10.0.0.5:51234 -> 10.0.0.9:22 S0
    S 1 pkts 60 bytes (idle)``), else the same made from its fields."""
    if event.message:
        return event.message[:MAX_EVIDENCE_CHARS]
    fields = event.fields
    src = endpoint(fields.get("source.ip"), fields.get("source.port"))
    dst = endpoint(fields.get("destination.ip"), fields.get("destination.port"))
    state = fields.get("ronda.flow.state", "-")
    hist = fields.get("ronda.flow.history") or "-"
    return f"{fields.get('network.transport', '?')} {src} -> {dst} {state} {hist}"


def flow_start(event: Event) -> float:
    """The flow's start time: the event time (its end) minus ``event.duration``."""
    duration = event.fields.get("event.duration")
    if isinstance(duration, int | float) and duration > 0:
        return event.timestamp - duration / 1e9
    return event.timestamp

