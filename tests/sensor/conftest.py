"""Shared fixtures for the parser and syslog tests."""

from __future__ import annotations

import time

import pytest

from ronda.clock import ManualClock


def local_ts(year: int, mon: int, day: int, hh: int, mm: int, ss: int) -> float:
    """Epoch seconds of a wall-clock time in the machine's local zone (classic syslog)."""
    return time.mktime((year, mon, day, hh, mm, ss, 0, 0, -1))


@pytest.fixture
def fixed_clock() -> ManualClock:
    """Noon, 21 November 2026, local time."""
    return ManualClock(local_ts(2026, 11, 21, 12, 0, 0))
