"""Fast timestamp parsing for log lines: small caches keyed on the time string, no strptime.

Log lines arrive in time order, so consecutive lines share the same second: a dict
lookup answers almost every call. On a miss the fields are sliced out by hand.
"""

from __future__ import annotations

import calendar
import math
import re
import time
from datetime import datetime

from ronda.clock import Clock

MONTHS: dict[str, int] = {
    name: i
    for i, name in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
        start=1,
    )
}

_CACHE_MAX = 4096
_DAY = 86400.0

# 2026-11-21T10:00:00[.123456][Z|+07:00|+0700], also with a space instead of the T.
_ISO = re.compile(
    r"(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d):(\d\d)(\.\d{1,9})?(Z|z|[+-]\d\d:?\d\d)?$"
)
# Nov 21 10:00:00 / Nov  1 10:00:00 / Nov 21 2026 10:00:00
_BSD = re.compile(r"([A-Z][a-z]{2}) {1,2}(\d{1,2})(?: (\d{4}))? (\d\d):(\d\d):(\d\d)$")


def _valid(mon: int, day: int, hh: int, mm: int, ss: int) -> bool:
    return 1 <= mon <= 12 and 1 <= day <= 31 and hh < 24 and mm < 60 and ss < 61


def _tz_offset(tz: str) -> int:
    """Seconds east of UTC from ``+0700``, ``+07:00``, ``-05:30``."""
    digits = tz[1:].replace(":", "")
    off = int(digits[:2]) * 3600 + int(digits[2:4]) * 60
    return -off if tz[0] == "-" else off


class CLFTime:
    """``21/Nov/2026:10:00:00 +0700`` (Apache/nginx ``$time_local``) to epoch seconds."""

    __slots__ = ("_cache",)

    def __init__(self) -> None:
        self._cache: dict[str, float] = {}

    def __call__(self, s: str) -> float | None:
        ts = self._cache.get(s)
        if ts is not None:
            return ts
        ts = self._parse(s)
        if ts is not None:
            if len(self._cache) >= _CACHE_MAX:
                self._cache.clear()
            self._cache[s] = ts
        return ts

    @staticmethod
    def _parse(s: str) -> float | None:
        if len(s) != 26 or s[2] != "/" or s[6] != "/" or s[20] != " ":
            return None
        mon = MONTHS.get(s[3:6])
        tz = s[21:26]
        parts = (s[0:2], s[7:11], s[12:14], s[15:17], s[18:20], tz[1:])
        if mon is None or tz[0] not in "+-" or not all(p.isdigit() and p.isascii() for p in parts):
            return None
        day, year, hh, mm, ss = (int(p) for p in parts[:5])
        if not _valid(mon, day, hh, mm, ss) or year < 1970:
            return None
        return float(calendar.timegm((year, mon, day, hh, mm, ss, 0, 0, 0)) - _tz_offset(tz))


class ISOTime:
    """RFC 3339 / ISO 8601 with offset (``+07:00``, ``+0700``, ``Z``) to epoch seconds.

    A time without an offset is taken as local time. The fraction is added after the
    cache lookup so that lines with distinct microseconds still share one entry.
    """

    __slots__ = ("_cache",)

    def __init__(self) -> None:
        self._cache: dict[str, float] = {}

    def __call__(self, s: str) -> float | None:
        frac = 0.0
        key = s
        if len(s) > 19 and s[19] == ".":
            end = 20
            n = len(s)
            while end < n and "0" <= s[end] <= "9":
                end += 1
            digits = s[20:end]
            if not digits:
                return None
            frac = int(digits) / (10 ** len(digits))
            key = s[:19] + s[end:]
        base = self._cache.get(key)
        if base is None:
            base = self._parse(key)
            if base is None:
                return None
            if len(self._cache) >= _CACHE_MAX:
                self._cache.clear()
            self._cache[key] = base
        return base + frac

    @staticmethod
    def _parse(s: str) -> float | None:
        m = _ISO.match(s)
        if m is None:
            return None
        year, mon, day, hh, mm, ss = (int(g) for g in m.group(1, 2, 3, 4, 5, 6))
        if not _valid(mon, day, hh, mm, ss) or year < 1970:
            return None
        tz = m.group(8)
        if tz is None:
            try:
                return time.mktime((year, mon, day, hh, mm, ss, 0, 0, -1))
            except (OverflowError, ValueError):
                return None
        off = 0 if tz in ("Z", "z") else _tz_offset(tz)
        return float(calendar.timegm((year, mon, day, hh, mm, ss, 0, 0, 0)) - off)


class BSDTime:
    """Classic syslog ``Nov 21 10:00:00`` (local time, no year) to epoch seconds.

    The year is the current one by the injected clock, or the previous one when the
    current year would put the time more than a day in the future (December lines
    read in January).
    """

    __slots__ = ("_cache", "_clock", "_year", "_year_end", "_year_start")

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._cache: dict[str, tuple[float, float]] = {}
        self._year = 0
        self._year_start = 0.0
        self._year_end = -1.0

    def __call__(self, s: str) -> float | None:
        now = self._clock.now()
        if not self._year_start <= now < self._year_end:
            self._set_year(now)
        pair = self._cache.get(s)
        if pair is None:
            got = self._parse(s)
            if got is None:
                return None
            pair = got
            if len(self._cache) >= _CACHE_MAX:
                self._cache.clear()
            self._cache[s] = pair
        this_year, last_year = pair
        return last_year if this_year > now + _DAY else this_year

    def _set_year(self, now: float) -> None:
        try:
            year = datetime.fromtimestamp(now).year
            self._year_start = time.mktime((year, 1, 1, 0, 0, 0, 0, 0, -1))
            self._year_end = time.mktime((year + 1, 1, 1, 0, 0, 0, 0, 0, -1))
        except (OverflowError, ValueError, OSError):
            year = 1970
            self._year_start = self._year_end = 0.0
        self._year = year
        self._cache.clear()

    def _parse(self, s: str) -> tuple[float, float] | None:
        m = _BSD.match(s)
        if m is None:
            return None
        mon = MONTHS.get(m.group(1))
        day, hh, mm, ss = (int(g) for g in m.group(2, 4, 5, 6))
        if mon is None or not _valid(mon, day, hh, mm, ss):
            return None
        explicit = m.group(3)
        try:
            if explicit is not None:
                ts = time.mktime((int(explicit), mon, day, hh, mm, ss, 0, 0, -1))
                return ts, ts
            this_year = time.mktime((self._year, mon, day, hh, mm, ss, 0, 0, -1))
            last_year = time.mktime((self._year - 1, mon, day, hh, mm, ss, 0, 0, -1))
        except (OverflowError, ValueError):
            return None
        return this_year, last_year


def epoch_from_number(value: float) -> float | None:
    """Epoch seconds from a number in seconds, milliseconds, microseconds or nanoseconds."""
    v = float(value)
    if not math.isfinite(v) or v < 0:
        return None
    while v > 1e11:
        v /= 1000.0
    return v
