"""Group tables for correlation windows: LRU order, a hard bound, idle pruning.

Every correlation rule keeps its state per group-by key in one :class:`GroupTable`.
The table never holds more than ``max_groups`` groups: a new group beyond the bound
evicts the least recently touched one (counted in an :class:`EvictionSink`, which the
detector turns into ``ronda_dropped_total{reason="group_evicted"}``). Groups idle for two
timespans (by the newest event time the table has seen) are pruned without being counted:
their windows are empty anyway.

Time is always the events' timestamps, never the wall clock.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import OrderedDict
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from ronda.schema import Event

EVIDENCE = 5
"""Raw messages kept per group (the most recent ones)."""

MAX_EVIDENCE_CHARS = 1024
"""A longer raw message is cut to this many characters."""

SAMPLE_VALUES = 10
"""Distinct values reported with a value_count hit (the most recent ones)."""

NEG_INF = float("-inf")


class EvictionSink:
    """Counts evicted groups across the tables of one correlation set."""

    __slots__ = ("evicted",)

    def __init__(self) -> None:
        self.evicted = 0

    def take(self) -> int:
        n, self.evicted = self.evicted, 0
        return n


@dataclass(frozen=True, slots=True)
class Hit:
    """A group met its rule's condition.

    ``value`` is what the condition tested: the event count, the number of distinct
    values, the sum or average, or the number of referenced rules that matched.
    ``context`` is set by windows that are evaluated after the fact (when a window
    closes): the alert fields of the group's last event, which is no longer at hand.
    """

    value: float
    first_seen: float
    last_seen: float
    evidence: tuple[str, ...]
    values: tuple[Any, ...] = ()
    events: int = 0
    matched: tuple[int, ...] = ()
    context: dict[str, Any] | None = field(default=None, compare=False)
    source: str = ""


class Group:
    """What every group keeps: its newest event time and the last raw messages."""

    __slots__ = ("evidence", "newest")

    def __init__(self) -> None:
        self.newest = NEG_INF
        self.evidence: list[str] = []

    def remember(self, message: str) -> None:
        if len(message) > MAX_EVIDENCE_CHARS:
            message = message[:MAX_EVIDENCE_CHARS]
        evidence = self.evidence
        evidence.append(message)
        if len(evidence) > EVIDENCE:
            del evidence[0]

    def take_evidence(self) -> tuple[str, ...]:
        evidence = tuple(self.evidence)
        self.evidence.clear()
        return evidence


G = TypeVar("G", bound=Group)


class GroupTable(ABC, Generic[G]):
    """The groups of one correlation rule. Not thread-safe: one detector thread owns it."""

    prunes_idle = True

    def __init__(self, span: float, max_groups: int, sink: EvictionSink) -> None:
        self.span = span
        self.max_groups = max(1, max_groups)
        self.sink = sink
        self.groups: OrderedDict[Hashable, G] = OrderedDict()
        self.watermark = NEG_INF
        self._next_prune = NEG_INF

    def __len__(self) -> int:
        return len(self.groups)

    @abstractmethod
    def new_group(self, ts: float) -> G:
        """An empty group whose first event is at ``ts``."""

    @abstractmethod
    def observe(
        self, key: Hashable, event: Event, positions: Sequence[int], value: Any
    ) -> Hit | None:
        """Count ``event`` (matched by the referenced rules at ``positions``) for ``key``.

        ``value`` is the value of the rule's ``field`` (value_* types), else None.
        Return a Hit when the group meets the condition; the group is then re-armed.
        """

    def close(self, watermark: float) -> list[tuple[Hashable, Hit]]:
        """Evaluate windows that ended before ``watermark`` (only closing windows do)."""
        return []

    def group(self, key: Hashable, ts: float) -> G:
        """The group for ``key`` (created if new), moved to the recent end of the LRU."""
        if ts > self.watermark:
            self.watermark = ts
            if self.prunes_idle and ts >= self._next_prune:
                self.prune()
                self._next_prune = ts + self.span
        groups = self.groups
        group = groups.get(key)
        if group is None:
            group = groups[key] = self.new_group(ts)
            if len(groups) > self.max_groups:
                groups.popitem(last=False)
                self.sink.evicted += 1
        else:
            groups.move_to_end(key)
        return group

    def prune(self) -> int:
        """Drop groups idle for two timespans (least recently touched first)."""
        cutoff = self.watermark - 2 * self.span
        groups = self.groups
        dropped = 0
        while groups:
            key = next(iter(groups))
            if groups[key].newest >= cutoff:
                break
            del groups[key]
            dropped += 1
        return dropped

    def resize(self, max_groups: int) -> None:
        """Apply a new bound (on reload); surplus groups are evicted, oldest first."""
        self.max_groups = max(1, max_groups)
        while len(self.groups) > self.max_groups:
            self.groups.popitem(last=False)
            self.sink.evicted += 1

    def clear(self) -> None:
        self.groups.clear()
        self.watermark = NEG_INF
        self._next_prune = NEG_INF
