"""Helpers for the logfile source tests: run a source in a thread and write seq lines.

(No tests here; the test modules import these helpers.)
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ronda.clock import ManualClock
from ronda.component import Context
from ronda.metrics import Metrics
from ronda.schema import Event
from sensor.logfile import LogfileConfig, LogfileSource

DEADLINE = 60.0  # generous: only reached when something is broken
PAD = "x" * 80


def line(seq: int) -> bytes:
    return json.dumps({"seq": seq, "pad": PAD}).encode() + b"\n"


def wait_until(cond: Callable[[], bool], what: str, timeout: float = DEADLINE) -> None:
    end = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.005)


class Run:
    """One LogfileSource running in a thread, recording every ``emit`` call."""

    def __init__(
        self,
        tmp_path: Path,
        path: Path | str,
        position: Any = None,
        metrics: Metrics | None = None,
        **settings: Any,
    ) -> None:
        self.metrics = metrics or Metrics()
        self.clock = ManualClock(1_700_000_000.0)
        self.ctx = Context(
            sensor="test",
            clock=self.clock,
            metrics=self.metrics,
            state_dir=tmp_path,
            log=logging.getLogger("ronda.test.logfile"),
            base_dir=tmp_path,
        )
        settings.setdefault("format", "json")
        settings.setdefault("poll_interval", 0.2)
        self.config = LogfileConfig(type="logfile", path=str(path), **settings)
        self.source = LogfileSource("web", self.config, self.ctx)
        if position is not None:
            self.source.restore(position)
        self.batches: list[tuple[list[Event], Any]] = []
        self._lock = threading.Lock()
        self.stop_event = threading.Event()
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> Run:
        self.thread.start()
        return self

    def _run(self) -> None:
        try:
            self.source.run(self._emit, self.stop_event)
        except BaseException as exc:  # surfaced by stop()/check()
            self.error = exc

    def _emit(self, events: list[Event], position: Any) -> None:
        assert isinstance(events, list)
        json.dumps(position)  # must be JSON-serialisable
        with self._lock:
            self.batches.append((list(events), json.loads(json.dumps(position))))

    # -- views -------------------------------------------------------------------------

    def events(self) -> list[Event]:
        with self._lock:
            return [e for events, _ in self.batches for e in events]

    def seqs(self) -> list[int]:
        return [int(e.fields["seq"]) for e in self.events()]

    def position(self) -> Any:
        with self._lock:
            return self.batches[-1][1] if self.batches else None

    def positions(self) -> list[Any]:
        with self._lock:
            return [p for _, p in self.batches]

    def value(self, name: str, **labels: str) -> float:
        return self.metrics.value(name, **labels)

    def wait_seqs(self, count: int, timeout: float = DEADLINE) -> None:
        def enough() -> bool:
            self.check()
            return len(self.seqs()) >= count

        wait_until(enough, f"{count} events (have {len(self.seqs())})", timeout)

    def check(self) -> None:
        if self.error is not None:
            raise AssertionError(f"source failed: {self.error!r}") from self.error

    def stop(self) -> float:
        """Stop the source; the seconds it took to return."""
        t0 = time.monotonic()
        self.stop_event.set()
        self.thread.join(timeout=DEADLINE)
        took = time.monotonic() - t0
        assert not self.thread.is_alive(), "source did not stop"
        self.check()
        return took


def append(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)


def write_seqs(path: Path, seqs: range) -> None:
    append(path, b"".join(line(s) for s in seqs))


def assert_exactly_once(seqs: list[int], total: int) -> None:
    dups = len(seqs) - len(set(seqs))
    missing = sorted(set(range(total)) - set(seqs))
    assert dups == 0, f"{dups} duplicates"
    assert not missing, f"{len(missing)} missing, first {missing[:10]}"
    assert len(seqs) == total
