"""Sliding windows evaluated at every event: event_count, value_count, value_sum (gte/gt).

These conditions can only become true by adding an event, so each event is tested at
once against the window that ends at it, and a group that meets the condition fires and
is re-armed (emptied): a sustained attack gives one hit per ``threshold`` new events,
which the pipeline's aggregator merges into one growing alert.

Memory per group:

* event_count: the timestamps of at most ``threshold`` events;
* value_count: value -> last time seen, at most ``threshold`` values;
* value_sum: at most :data:`SUM_BUCKETS` + 1 (sum, count) buckets, each 1/64 of the
  timespan, so the window slides in steps of timespan/64 (it covers the timespan plus
  at most one step);
* and the last :data:`~detectors.sigma.correlation_groups.EVIDENCE` raw messages.

Out-of-order events are tolerated: a late event is counted at its place in the group's
window and ignored only when it is older than that window.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Hashable, Sequence
from typing import Any

from detectors.sigma.correlation_groups import (
    SAMPLE_VALUES,
    EvictionSink,
    Group,
    GroupTable,
    Hit,
)
from ronda.schema import Event

SUM_BUCKETS = 64
"""Slices of the timespan a value_sum window is kept in."""


class _CountGroup(Group):
    __slots__ = ("times",)

    def __init__(self) -> None:
        super().__init__()
        self.times: deque[float] = deque()


class CountWindow(GroupTable[_CountGroup]):
    """event_count with gte/gt: ``threshold`` events within the timespan."""

    def __init__(self, span: float, max_groups: int, sink: EvictionSink, threshold: int) -> None:
        super().__init__(span, max_groups, sink)
        self.threshold = max(1, threshold)

    def new_group(self, ts: float) -> _CountGroup:
        return _CountGroup()

    def observe(
        self, key: Hashable, event: Event, positions: Sequence[int], value: Any
    ) -> Hit | None:
        ts = event.timestamp
        group = self.group(key, ts)
        times = group.times
        if not times or ts >= times[-1]:
            times.append(ts)
        else:
            if ts < times[-1] - self.span:
                return None
            i = len(times) - 1
            while i > 0 and times[i - 1] > ts:
                i -= 1
            times.insert(i, ts)
        if ts > group.newest:
            group.newest = ts
        group.remember(event.message)
        cutoff = times[-1] - self.span
        while times[0] < cutoff:
            times.popleft()
        while len(times) > self.threshold:
            times.popleft()
        if len(times) < self.threshold:
            return None
        hit = Hit(
            value=len(times),
            first_seen=times[0],
            last_seen=times[-1],
            evidence=group.take_evidence(),
            events=len(times),
        )
        times.clear()
        return hit


class _DistinctGroup(Group):
    __slots__ = ("events", "values")

    def __init__(self) -> None:
        super().__init__()
        self.values: dict[Hashable, float] = {}
        self.events = 0


class DistinctWindow(GroupTable[_DistinctGroup]):
    """value_count with gte/gt: ``threshold`` distinct values within the timespan."""

    def __init__(self, span: float, max_groups: int, sink: EvictionSink, threshold: int) -> None:
        super().__init__(span, max_groups, sink)
        self.threshold = max(1, threshold)

    def new_group(self, ts: float) -> _DistinctGroup:
        return _DistinctGroup()

    def observe(
        self, key: Hashable, event: Event, positions: Sequence[int], value: Any
    ) -> Hit | None:
        ts = event.timestamp
        group = self.group(key, ts)
        values = group.values
        seen = values.get(value)
        if seen is None:
            if ts < group.newest - self.span:
                return None
            values[value] = ts
        elif ts > seen:
            del values[value]  # move to the end: the dict stays in last-seen order
            values[value] = ts
        if ts > group.newest:
            group.newest = ts
        group.events += 1
        group.remember(event.message)
        cutoff = group.newest - self.span
        while values:
            first = next(iter(values))
            if values[first] >= cutoff:
                break
            del values[first]
        if len(values) < self.threshold:
            return None
        # Out-of-order input can leave expired values behind newer ones: recount exactly.
        for stale in [v for v, t in values.items() if t < cutoff]:
            del values[stale]
        if len(values) < self.threshold:
            return None
        keys = list(values)
        hit = Hit(
            value=len(values),
            first_seen=min(values.values()),
            last_seen=group.newest,
            evidence=group.take_evidence(),
            values=tuple(reversed(keys[-SAMPLE_VALUES:])),
            events=group.events,
        )
        values.clear()
        group.events = 0
        return hit


class _SumGroup(Group):
    __slots__ = ("buckets",)

    def __init__(self) -> None:
        super().__init__()
        # [slice index, sum, events, first time] in slice order
        self.buckets: deque[list[float]] = deque()


class SumWindow(GroupTable[_SumGroup]):
    """value_sum with gte/gt: the sum of ``field`` within the timespan meets ``test``."""

    def __init__(
        self, span: float, max_groups: int, sink: EvictionSink, test: Callable[[float], bool]
    ) -> None:
        super().__init__(span, max_groups, sink)
        self.test = test
        self.step = span / SUM_BUCKETS

    def new_group(self, ts: float) -> _SumGroup:
        return _SumGroup()

    def observe(
        self, key: Hashable, event: Event, positions: Sequence[int], value: Any
    ) -> Hit | None:
        ts = event.timestamp
        group = self.group(key, ts)
        if ts > group.newest:
            group.newest = ts
        newest = math.floor(group.newest / self.step)
        index = math.floor(ts / self.step)
        if index < newest - SUM_BUCKETS:
            return None
        buckets = group.buckets
        pos = len(buckets)
        while pos > 0 and buckets[pos - 1][0] > index:
            pos -= 1
        if pos > 0 and buckets[pos - 1][0] == index:
            bucket = buckets[pos - 1]
            bucket[1] += value
            bucket[2] += 1
            bucket[3] = min(bucket[3], ts)
        else:
            buckets.insert(pos, [index, value, 1, ts])
        while buckets[0][0] < newest - SUM_BUCKETS:
            buckets.popleft()
        group.remember(event.message)
        total = math.fsum(b[1] for b in buckets)
        if not self.test(total):
            return None
        hit = Hit(
            value=total,
            first_seen=min(b[3] for b in buckets),
            last_seen=group.newest,
            evidence=group.take_evidence(),
            events=int(sum(b[2] for b in buckets)),
        )
        buckets.clear()
        return hit
