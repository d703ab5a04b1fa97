"""temporal and temporal_ordered: several referenced rules matched within the timespan.

Memory per group is one or two timestamps per referenced rule (k rules: O(k)) plus the
last few raw messages, whatever the event rate.

* temporal: the newest match time of each referenced rule; the group fires when the
  rules matched within the timespan ending at the group's newest event satisfy the
  condition (by default all of them; ``gte: n`` = any n of them; an extended condition
  ``a and (b or c)``).
* temporal_ordered: the rules must match in the listed order, all within the timespan.
  For each position i the group keeps the in-order chain ``rules[0..i]`` that started
  latest (start and end time), which is the one most likely to be completed in time.
  Events are ordered by their timestamps (equal timestamps count as in order).

A group that fires is re-armed (emptied).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from typing import Any

from detectors.sigma.correlation_groups import NEG_INF, EvictionSink, Group, GroupTable, Hit
from ronda.schema import Event

Satisfied = Callable[[Sequence[int]], bool]
"""Whether the positions of the rules that matched within the window meet the condition."""


class _TemporalGroup(Group):
    __slots__ = ("events", "last")

    def __init__(self, size: int) -> None:
        super().__init__()
        self.last = [NEG_INF] * size
        self.events = 0


class TemporalWindow(GroupTable[_TemporalGroup]):
    """temporal: the referenced rules matched in any order within the timespan."""

    def __init__(
        self, span: float, max_groups: int, sink: EvictionSink, size: int, satisfied: Satisfied
    ) -> None:
        super().__init__(span, max_groups, sink)
        self.size = size
        self.satisfied = satisfied

    def new_group(self, ts: float) -> _TemporalGroup:
        return _TemporalGroup(self.size)

    def observe(
        self, key: Hashable, event: Event, positions: Sequence[int], value: Any
    ) -> Hit | None:
        ts = event.timestamp
        group = self.group(key, ts)
        if ts < group.newest - self.span:
            return None
        last = group.last
        for pos in positions:
            if ts > last[pos]:
                last[pos] = ts
        if ts > group.newest:
            group.newest = ts
        group.events += 1
        group.remember(event.message)
        cutoff = group.newest - self.span
        active = [i for i, t in enumerate(last) if t >= cutoff]
        if not active or not self.satisfied(active):
            return None
        hit = Hit(
            value=len(active),
            first_seen=min(last[i] for i in active),
            last_seen=group.newest,
            evidence=group.take_evidence(),
            events=group.events,
            matched=tuple(active),
        )
        group.last = [NEG_INF] * self.size
        group.events = 0
        return hit


class _OrderedGroup(Group):
    __slots__ = ("ends", "events", "starts")

    def __init__(self, size: int) -> None:
        super().__init__()
        self.starts = [NEG_INF] * size
        self.ends = [NEG_INF] * size
        self.events = 0


class OrderedWindow(GroupTable[_OrderedGroup]):
    """temporal_ordered: the referenced rules matched in the listed order."""

    def __init__(self, span: float, max_groups: int, sink: EvictionSink, size: int) -> None:
        super().__init__(span, max_groups, sink)
        self.size = size

    def new_group(self, ts: float) -> _OrderedGroup:
        return _OrderedGroup(self.size)

    def observe(
        self, key: Hashable, event: Event, positions: Sequence[int], value: Any
    ) -> Hit | None:
        ts = event.timestamp
        group = self.group(key, ts)
        if ts > group.newest:
            group.newest = ts
        group.events += 1
        group.remember(event.message)
        span = self.span
        starts, ends = group.starts, group.ends
        last = self.size - 1
        hit: Hit | None = None
        # Highest position first, so one event never extends a chain it just started.
        for pos in sorted(positions, reverse=True):
            if pos == 0:
                start = ts
            else:
                start = starts[pos - 1]
                if start == NEG_INF or ends[pos - 1] > ts or ts - start > span:
                    continue
            if pos == last:
                hit = Hit(
                    value=self.size,
                    first_seen=start,
                    last_seen=ts,
                    evidence=group.take_evidence(),
                    events=group.events,
                    matched=tuple(range(self.size)),
                )
                starts[:] = [NEG_INF] * self.size
                ends[:] = [NEG_INF] * self.size
                group.events = 0
            elif start > starts[pos] or (start == starts[pos] and ts < ends[pos]):
                starts[pos] = start
                ends[pos] = ts
        return hit
