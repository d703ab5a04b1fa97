"""Process statistics Prometheus scrapes with the rest: inotify watches in use and the limit.

The kernel limit (``fs.inotify.max_user_watches``) is per user, across processes; the
count is this process's own watches (from ``/proc/self/fdinfo``), a lower bound of the
user's total. Watches run out silently otherwise: tailing falls back to polling.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

MAX_WATCHES = Path("/proc/sys/fs/inotify/max_user_watches")


def inotify_watches(proc: Path = Path("/proc/self")) -> int:
    total = 0
    try:
        fds = os.listdir(proc / "fd")
    except OSError:
        return 0
    for fd in fds:
        try:
            if os.readlink(proc / "fd" / fd) != "anon_inode:inotify":
                continue
            with open(proc / "fdinfo" / fd, encoding="ascii", errors="replace") as fh:
                total += sum(1 for line in fh if line.startswith("inotify wd:"))
        except OSError:
            continue
    return total


def inotify_limit(path: Path = MAX_WATCHES) -> int | None:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


class InotifyCollector(Collector):
    def collect(self) -> Iterator[GaugeMetricFamily]:
        yield GaugeMetricFamily("ronda_inotify_watches",
                                "inotify watches this process holds.", value=inotify_watches())
        limit = inotify_limit()
        if limit is not None:
            yield GaugeMetricFamily("ronda_inotify_watches_limit",
                                    "The kernel's per-user inotify watch limit.", value=limit)
