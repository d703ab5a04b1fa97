"""A bounded queue of batches whose capacity counts items, with an explicit overflow policy.

Policies: ``block`` (the producer waits: lossless back-pressure, for files that can wait),
``drop_newest`` (the incoming batch is cut to what fits), ``drop_oldest`` (the oldest
queued items are dropped to make room). ``put`` returns how many items it dropped.
Control entries (barriers, markers) are never dropped and take no capacity.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

Policy = Literal["block", "drop_newest", "drop_oldest"]


@dataclass
class Entry:
    kind: str  # "events", "alerts", "barrier", ...
    items: list[Any] = field(default_factory=list)
    source: str = ""
    position: Any = None
    control: Any = None


class BoundedQueue:
    def __init__(self, capacity: int, policy: Policy) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self.capacity = capacity
        self.policy = policy
        self._entries: deque[Entry] = deque()
        self._depth = 0
        self._by_source: dict[str, int] = {}  # depth per producer that has a budget
        self._closed = False
        self._lock = threading.Lock()
        self._not_empty = threading.Condition(self._lock)
        self._not_full = threading.Condition(self._lock)

    @property
    def depth(self) -> int:
        """Items (not entries) waiting."""
        return self._depth

    def put(self, entry: Entry, policy: Policy | None = None, limit: int | None = None) -> int:
        """Enqueue; an entry with no items (a control entry) always goes in.

        ``policy`` and ``limit`` give one producer its own policy and budget in a shared
        queue: a file source that can wait and a UDP listener that cannot each get
        their own share, so a file backlog never makes the listener drop.
        """
        n = len(entry.items)
        with self._lock:
            if n == 0 or self._closed:
                self._append(entry, n)
                return 0
            dropped = 0
            if limit is not None:
                self._by_source.setdefault(entry.source, 0)
                if self._by_source[entry.source] + n > limit:
                    n, dropped = self._make_room(entry, n, policy or self.policy, limit,
                                                 lambda: self._by_source[entry.source])
            elif self._depth + n > self.capacity:
                n, dropped = self._make_room(entry, n, policy or self.policy, self.capacity,
                                             lambda: self._depth)
            if n or entry.position is not None or entry.control is not None:
                self._append(entry, n)
            return dropped

    def _append(self, entry: Entry, n: int) -> None:
        self._entries.append(entry)
        self._depth += n
        if entry.source in self._by_source:
            self._by_source[entry.source] += n
        self._not_empty.notify()

    def _make_room(self, entry: Entry, n: int, policy: Policy, cap: int,
                   used: Callable[[], int]) -> tuple[int, int]:
        if policy == "block":
            while used() > 0 and used() + n > cap and not self._closed:
                self._not_full.wait(0.5)
            return n, 0
        if policy == "drop_newest":
            fits = max(0, cap - used())
            del entry.items[fits:]
            return fits, n - fits
        dropped = 0
        while self._depth + n > self.capacity and self._entries:
            victim = next((e for e in self._entries if e.items), None)
            if victim is None:
                break
            excess = self._depth + n - self.capacity
            cut = min(excess, len(victim.items))
            del victim.items[:cut]
            self._depth -= cut
            dropped += cut
        if self._depth + n > self.capacity:  # one batch larger than the whole queue
            cut = self._depth + n - self.capacity
            del entry.items[:cut]
            dropped += cut
            n -= cut
        return n, dropped

    def get(self, timeout: float) -> Entry | None:
        with self._lock:
            if not self._entries:
                self._not_empty.wait(timeout)
                if not self._entries:
                    return None
            entry = self._entries.popleft()
            self._depth -= len(entry.items)
            if entry.source in self._by_source:
                self._by_source[entry.source] -= len(entry.items)
            self._not_full.notify_all()
            return entry

    def close(self) -> None:
        """Wake blocked producers; later puts are accepted without waiting."""
        with self._lock:
            self._closed = True
            self._not_full.notify_all()
            self._not_empty.notify_all()
