"""Sliding-window counting for one threshold rule, per group, in bounded memory.

Time is the events' own timestamps, so a replay of old logs behaves like live input.
Each group keeps only what the window needs:

* count mode: the timestamps of at most ``threshold`` matching events (sorted);
* distinct mode: value -> last time seen, at most ``threshold`` values;
* the last few raw messages as evidence.

When a group reaches the threshold it reports a :class:`Hit` and is re-armed (emptied),
so the next hit needs ``threshold`` new events. Groups live in LRU order; beyond
``max_groups`` the least recently touched group is evicted, and groups idle for two
windows (by the rule's newest event time) are pruned.

Out-of-order events are tolerated: a late event is inserted at its place in the group's
window, and is ignored only when it is older than that window.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

EVIDENCE = 5
"""Raw messages kept per group (the most recent ones)."""

SAMPLE_VALUES = 10
"""Distinct values reported with a hit (the most recent ones)."""

_IGNORED, _COUNTED, _REACHED = 0, 1, 2


@dataclass(frozen=True, slots=True)
class Hit:
    """A group reached the threshold."""

    count: int
    first_seen: float
    last_seen: float
    evidence: tuple[str, ...]
    values: tuple[Any, ...] = ()


_NEG_INF = float("-inf")


class Group:
    __slots__ = ("evidence", "newest", "times", "values")

    def __init__(self, distinct: bool) -> None:
        self.newest = _NEG_INF
        self.evidence: list[str] = []
        if distinct:
            self.values: dict[Hashable, float] = {}
        else:
            self.times: deque[float] = deque()


class RuleWindow:
    """The groups of one rule. Not thread-safe: one detector thread owns it."""

    def __init__(self, window: float, threshold: int, distinct: bool, max_groups: int) -> None:
        self.window = window
        self.threshold = threshold
        self.distinct = distinct
        self.max_groups = max(1, max_groups)
        self.idle_after = 2 * window
        self.groups: OrderedDict[Hashable, Group] = OrderedDict()
        self.watermark = _NEG_INF
        self._next_prune = _NEG_INF
        self.evicted = 0

    def __len__(self) -> int:
        return len(self.groups)

    def observe(self, key: Hashable, ts: float, message: str, value: Hashable = None) -> Hit | None:
        """Count one matching event for ``key``; return a Hit when the threshold is reached.

        In distinct mode ``value`` is the value of the distinct field.
        """
        if ts > self.watermark:
            self.watermark = ts
            if ts >= self._next_prune:
                self.prune()
                self._next_prune = ts + self.window
        groups = self.groups
        group = groups.get(key)
        if group is None:
            group = groups[key] = Group(self.distinct)
            if len(groups) > self.max_groups:
                groups.popitem(last=False)
                self.evicted += 1
        else:
            groups.move_to_end(key)
        if self.distinct:
            state = self._observe_distinct(group, ts, value)
        else:
            state = self._observe_count(group, ts)
        if state == _IGNORED:
            return None
        evidence = group.evidence
        evidence.append(message)
        if len(evidence) > EVIDENCE:
            del evidence[0]
        return self._fire(group) if state == _REACHED else None

    def prune(self) -> int:
        """Drop groups idle for two windows (oldest first); return how many."""
        cutoff = self.watermark - self.idle_after
        groups = self.groups
        dropped = 0
        while groups:
            key = next(iter(groups))
            if groups[key].newest >= cutoff:
                break
            del groups[key]
            dropped += 1
        return dropped

    def take_evicted(self) -> int:
        """Evictions since the last call (for the dropped metric)."""
        n, self.evicted = self.evicted, 0
        return n

    def _observe_count(self, group: Group, ts: float) -> int:
        """Add ``ts``: _REACHED, _COUNTED, or _IGNORED when older than the group's window."""
        times = group.times
        if not times or ts >= times[-1]:
            times.append(ts)
        else:
            if ts < times[-1] - self.window:
                return _IGNORED
            i = len(times) - 1
            while i > 0 and times[i - 1] > ts:
                i -= 1
            times.insert(i, ts)
        if ts > group.newest:
            group.newest = ts
        cutoff = times[-1] - self.window
        while times[0] < cutoff:
            times.popleft()
        while len(times) > self.threshold:
            times.popleft()
        return _REACHED if len(times) >= self.threshold else _COUNTED

    def _observe_distinct(self, group: Group, ts: float, value: Hashable) -> int:
        values = group.values
        seen = values.get(value)
        if seen is None:
            if ts < group.newest - self.window:
                return _IGNORED
            values[value] = ts
        elif ts > seen:
            del values[value]  # move to the end: the dict stays in last-seen order
            values[value] = ts
        if ts > group.newest:
            group.newest = ts
        cutoff = group.newest - self.window
        while values:
            first = next(iter(values))
            if values[first] >= cutoff:
                break
            del values[first]
        if len(values) < self.threshold:
            return _COUNTED
        # Out-of-order input can leave expired values behind newer ones: recount exactly.
        for stale in [v for v, t in values.items() if t < cutoff]:
            del values[stale]
        return _REACHED if len(values) >= self.threshold else _COUNTED

    def _fire(self, group: Group) -> Hit:
        evidence = tuple(group.evidence)
        group.evidence.clear()
        if self.distinct:
            values = group.values
            keys = list(values)
            hit = Hit(
                count=len(values),
                first_seen=min(values.values()),
                last_seen=group.newest,
                evidence=evidence,
                values=tuple(reversed(keys[-SAMPLE_VALUES:])),
            )
            values.clear()
            return hit
        times = group.times
        hit = Hit(count=len(times), first_seen=times[0], last_seen=times[-1], evidence=evidence)
        times.clear()
        return hit
