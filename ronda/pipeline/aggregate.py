"""Merge repeats: the same rule and key within a window become one alert whose count grows.

The first alert of a (rule, key) goes out at once (paging is not delayed). Repeats within
``window`` seconds of its first_seen (event time) are merged; when the entry closes, the
merged alert (same id, larger ``count``) goes out once more, so stores upsert it.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from ronda.schema import Alert

MAX_EVIDENCE = 10


@dataclass
class _Open:
    alert: Alert
    opened: float  # clock time when opened
    dirty: bool = False


class Aggregator:
    def __init__(self, window: float, max_open: int) -> None:
        self.window = window
        self.max_open = max_open
        self._open: OrderedDict[tuple[str, str], _Open] = OrderedDict()

    def __len__(self) -> int:
        return len(self._open)

    def add(self, alert: Alert, now: float) -> tuple[list[Alert], bool]:
        """Returns (alerts to send now, whether ``alert`` was merged into an open one)."""
        key = (alert.rule.id, alert.key)
        out: list[Alert] = []
        entry = self._open.get(key)
        if entry is not None:
            if alert.last_seen - entry.alert.first_seen <= self.window:
                entry.alert = _merge(entry.alert, alert)
                entry.dirty = True
                return out, True
            if entry.dirty:
                out.append(entry.alert)
            del self._open[key]
        self._open[key] = _Open(alert=alert, opened=now)
        out.append(alert)
        while len(self._open) > self.max_open:
            _, victim = self._open.popitem(last=False)
            if victim.dirty:
                out.append(victim.alert)
        return out, False

    def expire(self, now: float) -> list[Alert]:
        """Close entries opened more than ``window`` ago; return the grown ones."""
        out: list[Alert] = []
        while self._open:
            key, entry = next(iter(self._open.items()))
            if now - entry.opened <= self.window:
                break
            del self._open[key]
            if entry.dirty:
                out.append(entry.alert)
        return out

    def flush_all(self) -> list[Alert]:
        out = [e.alert for e in self._open.values() if e.dirty]
        for e in self._open.values():
            e.dirty = False
        return out


def _merge(base: Alert, new: Alert) -> Alert:
    evidence = (base.evidence + tuple(e for e in new.evidence if e not in base.evidence))
    return base.model_copy(
        update={
            "count": base.count + new.count,
            "last_seen": max(base.last_seen, new.last_seen),
            "evidence": evidence[-MAX_EVIDENCE:],
        }
    )
