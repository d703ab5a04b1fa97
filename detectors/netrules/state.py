"""Bounded state of the rules: thresholds (per sid and tracked address) and flowbits
(per flow, keyed by the events' ``network.community_id``)."""

from __future__ import annotations

from detectors.net.common import LruTable
from detectors.netrules.rule import Flowbit, Threshold


class _Track:
    __slots__ = ("count", "start")

    def __init__(self) -> None:
        self.start = float("-inf")
        self.count = 0


class Thresholds:
    """Suricata's ``threshold`` (limit, threshold, both) and ``detection_filter``."""

    def __init__(self, max_entries: int) -> None:
        self.table: LruTable[tuple[int, str], _Track] = LruTable(max_entries, _Track)

    def allow(self, sid: int, th: Threshold, src: str, dst: str, ts: float) -> bool:
        """Whether a match at ``ts`` raises an alert."""
        if th.track == "by_src":
            key = src
        elif th.track == "by_dst":
            key = dst
        elif th.track == "by_both":
            key = f"{src}>{dst}"
        else:
            key = ""
        t = self.table.get((sid, key))
        if ts - t.start >= th.seconds:
            t.start, t.count = ts, 0
        t.count += 1
        if th.kind == "limit":
            return t.count <= th.count
        if th.kind == "threshold":
            if t.count >= th.count:
                t.start, t.count = float("-inf"), 0  # every count-th match
                return True
            return False
        if th.kind == "both":
            return t.count == th.count
        return t.count > th.count  # detection_filter

    def take_evicted(self) -> int:
        return self.table.take_evicted()


class Flowbits:
    def __init__(self, max_flows: int) -> None:
        self.table: LruTable[str, set[str]] = LruTable(max_flows, set)

    def check(self, flow: str | None, bits: list[Flowbit]) -> bool:
        current = self.table.peek(flow) if flow else None
        have = current or set()
        for fb in bits:
            if fb.cmd == "isset":
                found = [n in have for n in fb.names]
                if not (any(found) if fb.any_of else all(found)):
                    return False
            elif fb.cmd == "isnotset":
                found = [n in have for n in fb.names]
                if any(found) if not fb.any_of else all(found):
                    return False
        return True

    def apply(self, flow: str | None, bits: list[Flowbit]) -> None:
        if not flow:
            return
        for fb in bits:
            if fb.cmd in ("set", "unset", "toggle"):
                have = self.table.get(flow)
                for n in fb.names:
                    if fb.cmd == "set":
                        have.add(n)
                    elif fb.cmd == "unset" or n in have:
                        have.discard(n)
                    else:
                        have.add(n)

    def take_evicted(self) -> int:
        return self.table.take_evicted()
