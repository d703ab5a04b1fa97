"""Windows evaluated when they close: lt/lte/eq/neq conditions, and every value_avg.

"Fewer than N events" or "exactly N distinct values" can only be decided once a window
is over, so these conditions use tumbling windows: a group's window opens at its first
event and lasts the timespan; it is evaluated once, when event time (the newest event the
correlation set has seen, or :meth:`CorrelationSet.advance`) passes its end, and the next
event of the group opens a new window. An average is evaluated the same way (over the
whole window, not at every event, which would fire on the first large value).

A group exists only once an event arrived, so a window always holds at least one event:
``lt: 1`` can never be met, and absence ("no event at all") is not detectable. A window
still open when the input ends is never evaluated. Late events that arrive while their
group's window is open are counted in it.

Memory per group is constant: a count, a sum, the alert context of the last event, the
last few raw messages, and for value_count at most ``cap`` distinct values (the
condition's count + 1: enough to decide lt/lte/eq/neq exactly). Closing uses a heap of
window ends, compacted when evictions leave it more than twice the group bound.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Hashable, Sequence
from itertools import count
from typing import Any, Literal

from detectors.sigma.correlation_groups import (
    SAMPLE_VALUES,
    EvictionSink,
    Group,
    GroupTable,
    Hit,
)
from ronda.schema import Event

Measure = Literal["count", "distinct", "sum", "avg"]


class _WindowGroup(Group):
    __slots__ = ("context", "end", "events", "first", "seq", "source", "total", "values")

    def __init__(self, ts: float, end: float, seq: int) -> None:
        super().__init__()
        self.first = ts
        self.end = end
        self.seq = seq
        self.events = 0
        self.total = 0.0
        self.values: dict[Hashable, None] = {}
        self.context: dict[str, Any] = {}
        self.source = ""


class ClosingWindow(GroupTable[_WindowGroup]):
    """Tumbling windows per group, tested with ``test`` when they close."""

    prunes_idle = False  # windows leave the table when they close

    def __init__(
        self,
        span: float,
        max_groups: int,
        sink: EvictionSink,
        measure: Measure,
        test: Callable[[float], bool],
        context: Callable[[Hashable, Event, Sequence[int]], dict[str, Any]],
        cap: int = 0,
    ) -> None:
        super().__init__(span, max_groups, sink)
        self.measure = measure
        self.test = test
        self.context = context
        self.cap = max(1, cap)
        self._heap: list[tuple[float, int, Hashable, _WindowGroup]] = []
        self._seq = count()

    def new_group(self, ts: float) -> _WindowGroup:
        return _WindowGroup(ts, ts + self.span, next(self._seq))

    def observe(
        self, key: Hashable, event: Event, positions: Sequence[int], value: Any
    ) -> Hit | None:
        """Count ``event`` in its group's open window. Call :meth:`close` first with a
        watermark of at least the event's time, so that no open window has ended."""
        ts = event.timestamp
        group = self.group(key, ts)
        if group.events == 0:
            heap = self._heap
            heapq.heappush(heap, (group.end, group.seq, key, group))
            if len(heap) > 2 * self.max_groups + 64:
                self._compact()
        group.events += 1
        if ts < group.first:
            group.first = ts
        if ts > group.newest:
            group.newest = ts
        measure = self.measure
        if measure == "distinct":
            values = group.values
            if value in values:
                del values[value]  # keep last-seen order
                values[value] = None
            elif len(values) < self.cap:
                values[value] = None
        elif measure != "count":
            group.total += value
        group.context = self.context(key, event, positions)
        group.source = event.source
        group.remember(event.message)
        return None

    def close(self, watermark: float) -> list[tuple[Hashable, Hit]]:
        """Evaluate and drop every window whose end is before ``watermark``."""
        out: list[tuple[Hashable, Hit]] = []
        heap = self._heap
        groups = self.groups
        while heap and heap[0][0] < watermark:
            _, _, key, group = heapq.heappop(heap)
            if groups.get(key) is not group:
                continue  # evicted, or already closed
            del groups[key]
            measured = self._measure(group)
            if self.test(measured):
                out.append((key, self._hit(group, measured)))
        return out

    def clear(self) -> None:
        super().clear()
        self._heap.clear()

    def resize(self, max_groups: int) -> None:
        super().resize(max_groups)
        self._compact()

    def _measure(self, group: _WindowGroup) -> float:
        measure = self.measure
        if measure == "count":
            return float(group.events)
        if measure == "distinct":
            return float(len(group.values))
        if measure == "sum":
            return group.total
        return group.total / group.events

    def _hit(self, group: _WindowGroup, measured: float) -> Hit:
        keys = list(group.values)
        return Hit(
            value=measured,
            first_seen=group.first,
            last_seen=group.newest,
            evidence=group.take_evidence(),
            values=tuple(reversed(keys[-SAMPLE_VALUES:])),
            events=group.events,
            context=group.context,
            source=group.source,
        )

    def _compact(self) -> None:
        """Rebuild the heap from the live groups (evictions leave stale entries)."""
        self._heap = [(g.end, g.seq, k, g) for k, g in self.groups.items()]
        heapq.heapify(self._heap)
